#include "tasks/commands/recent_ids.hpp"

namespace zpark::tasks {

std::optional<std::string> RecentIds::find(const std::string& id) const {
  auto it = values_.find(id);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

void RecentIds::remember(const std::string& id, std::string value) {
  if (!values_.emplace(id, std::move(value)).second) return;
  order_.push_back(id);
  while (order_.size() > capacity_) {
    values_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace zpark::tasks
