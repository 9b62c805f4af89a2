#pragma once
// Message ids seen lately, so a webhook Webex delivers twice (or a captured call replayed) is
// answered once. Bounded: the oldest ids are forgotten first.
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace zpark::tasks {

class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity = 10000) : capacity_(capacity) {}
  // The value remembered with `id`, if it was seen.
  std::optional<std::string> find(const std::string& id) const;
  void remember(const std::string& id, std::string value);
  std::size_t size() const { return values_.size(); }

 private:
  std::size_t capacity_;
  std::deque<std::string> order_;
  std::unordered_map<std::string, std::string> values_;
};

}  // namespace zpark::tasks
