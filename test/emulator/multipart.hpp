// multipart/form-data as Webex takes it for file uploads (POST /v1/messages with a `files`
// part). A pure parser: tests and the message route use it on the raw body.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_util.hpp"

namespace emu {

struct FormFile {
  std::string field;         // the part's name ("files")
  std::string filename;
  std::string content_type;  // "application/octet-stream" when the part has none
  std::string bytes;
};

struct Form {
  std::vector<std::pair<std::string, std::string>> fields;  // text parts, in order
  std::vector<FormFile> files;                              // parts with a filename
};

// The boundary parameter of a multipart/form-data content type (quotes removed), or "" when
// the type is not multipart/form-data or has none.
std::string multipart_boundary(std::string_view content_type);

// Parts separated by CRLF "--boundary", each with headers, a blank line and its bytes; the body
// ends with "--boundary--". 400 with a reason for anything malformed.
Result<Form> parse_multipart(std::string_view content_type, std::string_view body);

// "89504e47..." of the first `n` bytes, for tests to check signatures without binary JSON.
std::string hex_head(std::string_view bytes, std::size_t n = 16);

}  // namespace emu
