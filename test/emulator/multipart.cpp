#include "multipart.hpp"

#include <cctype>

namespace emu {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// name="x"; filename="y" of a Content-Disposition value; "" when absent.
std::string param(std::string_view header, std::string_view name) {
  const std::string l = lower(header);
  const std::string key = std::string(name) + "=";
  for (std::size_t at = l.find(key); at != std::string::npos; at = l.find(key, at + 1)) {
    // A whole parameter name: "name=" must not match inside "filename=".
    if (at > 0 && l[at - 1] != ' ' && l[at - 1] != ';') continue;
    std::string_view v = header.substr(at + key.size());
    if (!v.empty() && v.front() == '"') {
      v.remove_prefix(1);
      return std::string(v.substr(0, v.find('"')));
    }
    return std::string(trim(v.substr(0, v.find(';'))));
  }
  return {};
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  const std::string l = lower(content_type);
  if (!l.starts_with("multipart/form-data")) return {};
  auto at = l.find("boundary=");
  if (at == std::string::npos) return {};
  std::string_view b = content_type.substr(at + 9);
  b = b.substr(0, b.find(';'));
  b = trim(b);
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  return std::string(b);
}

Result<Form> parse_multipart(std::string_view content_type, std::string_view body) {
  const std::string boundary = multipart_boundary(content_type);
  if (boundary.empty()) return ApiError{400, "Content-Type multipart/form-data needs a boundary"};
  const std::string delimiter = "--" + boundary;
  if (!body.starts_with(delimiter)) return ApiError{400, "multipart body does not start with its boundary"};
  Form form;
  std::size_t at = delimiter.size();
  for (;;) {
    if (body.substr(at).starts_with("--")) return form;  // the closing delimiter
    if (!body.substr(at).starts_with("\r\n")) return ApiError{400, "multipart boundary not followed by CRLF"};
    at += 2;
    const auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return ApiError{400, "multipart part without a blank line after its headers"};
    std::string disposition, type;
    for (std::size_t h = at; h < headers_end;) {
      auto eol = std::min(body.find("\r\n", h), headers_end);
      std::string_view line = body.substr(h, eol - h);
      auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        const std::string name = lower(trim(line.substr(0, colon)));
        if (name == "content-disposition") disposition = std::string(trim(line.substr(colon + 1)));
        if (name == "content-type") type = std::string(trim(line.substr(colon + 1)));
      }
      h = eol + 2;
    }
    const auto content = headers_end + 4;
    const auto end = body.find("\r\n" + delimiter, content);
    if (end == std::string_view::npos) return ApiError{400, "multipart part is not closed by the boundary"};
    if (!lower(disposition).starts_with("form-data")) return ApiError{400, "multipart part without Content-Disposition: form-data"};
    const std::string name = param(disposition, "name");
    if (name.empty()) return ApiError{400, "multipart part without a name"};
    std::string_view bytes = body.substr(content, end - content);
    if (disposition.find("filename=") != std::string::npos) {
      form.files.push_back(FormFile{name, param(disposition, "filename"),
                                    type.empty() ? "application/octet-stream" : type, std::string(bytes)});
    } else {
      form.fields.emplace_back(name, std::string(bytes));
    }
    at = end + 2 + delimiter.size();
  }
}

std::string hex_head(std::string_view bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < n; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace emu
