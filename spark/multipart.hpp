#pragma once
// multipart/form-data bodies for Webex file uploads (POST /messages with a `files` part).
// Pure functions, no I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zpark::spark {

struct FilePart {
  std::string name;          // file name shown in Webex, e.g. "db01-cpu.png"
  std::string content_type;  // "image/png"
  std::string bytes;
};

// A message with one file: the target (email when it has '@', else a room id), an optional
// thread and caption.
struct FileMessage {
  std::string to;
  std::string parent_id;
  std::string markdown;
  FilePart file;
};

// A boundary from `seed` ("zpark-" + 32 hex digits).
std::string multipart_boundary(std::uint64_t seed_high, std::uint64_t seed_low);

// The body: one text part per field (in order), then the `files` part. CRLF line ends as RFC
// 7578 wants; quotes and line breaks in names are replaced, as browsers do.
std::string multipart_body(std::string_view boundary, const std::vector<std::pair<std::string, std::string>>& fields,
                           const FilePart& file);

// The form fields of a FileMessage: roomId or toPersonEmail, parentId, markdown (empty ones left
// out).
std::vector<std::pair<std::string, std::string>> file_message_fields(const FileMessage& m);

// A file name from free text: letters, digits, '-', '_' and '.' kept, runs of anything else
// become one '-', at most 60 characters, then `extension` (".png"); "file" when nothing is left.
std::string safe_file_name(std::string_view text, std::string_view extension);

}  // namespace zpark::spark
