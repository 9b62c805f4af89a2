#include "spark/multipart.hpp"

#include <fmt/format.h>

namespace zpark::spark {

namespace {

// A name inside a quoted header parameter: no quote, CR or LF may break out of it.
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"') out += "%22";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

}  // namespace

std::string multipart_boundary(std::uint64_t seed_high, std::uint64_t seed_low) {
  return fmt::format("zpark-{:016x}{:016x}", seed_high, seed_low);
}

std::string multipart_body(std::string_view boundary, const std::vector<std::pair<std::string, std::string>>& fields,
                           const FilePart& file) {
  std::string body;
  body.reserve(file.bytes.size() + 512);
  for (const auto& [name, value] : fields) {
    body += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n", boundary, header_safe(name));
    body += value;
    body += "\r\n";
  }
  body += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                      boundary, header_safe(file.name), header_safe(file.content_type));
  body += file.bytes;
  body += fmt::format("\r\n--{}--\r\n", boundary);
  return body;
}

std::vector<std::pair<std::string, std::string>> file_message_fields(const FileMessage& m) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back(m.to.find('@') != std::string::npos ? "toPersonEmail" : "roomId", m.to);
  if (!m.parent_id.empty()) fields.emplace_back("parentId", m.parent_id);
  if (!m.markdown.empty()) fields.emplace_back("markdown", m.markdown);
  return fields;
}

std::string safe_file_name(std::string_view text, std::string_view extension) {
  std::string out;
  for (char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.';
    if (keep) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
    if (out.size() >= 60) break;
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && (out.front() == '.' || out.front() == '-')) out.erase(out.begin());
  if (out.empty()) out = "file";
  return out + std::string(extension);
}

}  // namespace zpark::spark
