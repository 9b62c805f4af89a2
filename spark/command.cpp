#include "spark/command.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace zpark::spark {

namespace json = boost::json;

namespace {

// ---- small text helpers (ASCII case only: commands are ASCII; names keep their bytes) ------

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower_ascii(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Walks UTF-8: the code point at s[i] and its length, or nullopt for an invalid sequence
// (overlong forms, surrogates and values past U+10FFFF included).
struct CodePoint {
  std::uint32_t value;
  std::size_t size;
};
std::optional<CodePoint> decode_utf8(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return CodePoint{b0, 1};
  std::size_t n = 0;
  std::uint32_t cp = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) n = 2, cp = b0 & 0x1F, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0) n = 3, cp = b0 & 0x0F, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0) n = 4, cp = b0 & 0x07, min = 0x10000;
  else return std::nullopt;
  if (s.size() - i < n) return std::nullopt;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return CodePoint{cp, n};
}

// U+00A0 (what Webex clients put after a mention) becomes a plain space.
std::string nbsp_to_space(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      out += ' ';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---- html: tags, attributes, entities -------------------------------------------------------

struct Tag {
  std::string_view name;   // empty for <!-- --> and <!DOCTYPE>
  std::string_view attrs;  // between the name and '>'
  bool closing = false;
  std::size_t end = 0;     // index after '>'
};

// A longer "tag" is text: this bounds the work per '<', so a message full of unclosed
// '<' costs linear time, not quadratic. A mention tag is about 150 bytes.
constexpr std::size_t kMaxTagBytes = 2048;

// The tag starting at html[pos] == '<', or nullopt when that '<' does not open a tag (then
// it is text). The end is the first '>' outside quoted attribute values.
std::optional<Tag> read_tag(std::string_view full, std::size_t pos) {
  const std::string_view html = full.substr(0, pos + std::min(full.size() - pos, kMaxTagBytes));
  std::size_t i = pos + 1;
  Tag t;
  if (i < html.size() && html[i] == '!') {
    auto close = html.find('>', i);
    if (close == std::string_view::npos) return std::nullopt;
    t.end = close + 1;
    return t;
  }
  if (i < html.size() && html[i] == '/') t.closing = true, ++i;
  const std::size_t name_begin = i;
  if (i >= html.size() || !is_alpha(html[i])) return std::nullopt;
  while (i < html.size() && (is_alpha(html[i]) || is_digit(html[i]) || html[i] == '-')) ++i;
  t.name = html.substr(name_begin, i - name_begin);
  const std::size_t attrs_begin = i;
  char quote = 0;
  for (; i < html.size(); ++i) {
    const char c = html[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      t.attrs = html.substr(attrs_begin, i - attrs_begin);
      t.end = i + 1;
      return t;
    }
  }
  return std::nullopt;
}

// The value of attribute `name` (case-insensitive) in a tag's attribute text.
std::optional<std::string_view> attribute(std::string_view attrs, std::string_view name) {
  std::size_t i = 0;
  while (i < attrs.size()) {
    while (i < attrs.size() && (is_space(attrs[i]) || attrs[i] == '/')) ++i;
    const std::size_t n0 = i;
    while (i < attrs.size() && !is_space(attrs[i]) && attrs[i] != '=' && attrs[i] != '/') ++i;
    const std::string_view key = attrs.substr(n0, i - n0);
    if (key.empty()) {
      ++i;  // a stray '=': step over it
      continue;
    }
    while (i < attrs.size() && is_space(attrs[i])) ++i;
    std::string_view value;
    if (i < attrs.size() && attrs[i] == '=') {
      ++i;
      while (i < attrs.size() && is_space(attrs[i])) ++i;
      if (i < attrs.size() && (attrs[i] == '"' || attrs[i] == '\'')) {
        const char q = attrs[i++];
        const std::size_t v0 = i;
        while (i < attrs.size() && attrs[i] != q) ++i;
        value = attrs.substr(v0, i - v0);
        if (i < attrs.size()) ++i;
      } else {
        const std::size_t v0 = i;
        while (i < attrs.size() && !is_space(attrs[i])) ++i;
        value = attrs.substr(v0, i - v0);
      }
    }
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

// Decodes the entity at s[i] == '&' into `out`; returns the characters consumed, 0 when it
// is not an entity we know (the '&' is then text).
std::size_t decode_entity(std::string_view s, std::size_t i, std::string& out) {
  auto semi = s.substr(i, 12).find(';');  // bounded: a run of '&' stays linear
  if (semi == std::string_view::npos) return 0;
  semi += i;
  const std::string_view body = s.substr(i + 1, semi - i - 1);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> named{{
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
      {"#39", "'"},
  }};
  for (const auto& [name, text] : named)
    if (body == name) {
      out += text;
      return semi - i + 1;
    }
  if (body.size() < 2 || body[0] != '#') return 0;
  std::uint32_t cp = 0;
  const bool hex = body[1] == 'x' || body[1] == 'X';
  const std::string_view digits = body.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 6) return 0;
  for (char c : digits) {
    int d = is_digit(c) ? c - '0'
            : hex && lower_ascii(c) >= 'a' && lower_ascii(c) <= 'f' ? lower_ascii(c) - 'a' + 10
                                                                    : -1;
    if (d < 0) return 0;
    cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
  }
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  append_utf8(out, cp == 0xA0 ? ' ' : cp);
  return semi - i + 1;
}

// Tags that end a line when rendered: they become '\n', so a two-line message stays two
// lines (and is refused as a command) instead of gluing its words together.
bool breaks_line(std::string_view tag) {
  static constexpr std::string_view names[] = {"br", "p",  "div", "li", "ul", "ol", "blockquote",
                                               "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "hr"};
  for (auto n : names)
    if (iequals(tag, n)) return true;
  return false;
}

// Text of an html fragment: tags removed (line-breaking ones become '\n'), entities decoded,
// raw white space (insignificant in html) a space.
std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (auto tag = read_tag(html, i)) {
        if (breaks_line(tag->name)) out += '\n';
        i = tag->end;
        continue;
      }
    } else if (c == '&') {
      if (auto used = decode_entity(html, i, out)) {
        i += used;
        continue;
      }
    }
    out += is_space(c) ? ' ' : c;
    ++i;
  }
  return out;
}

// ---- the bot's id ---------------------------------------------------------------------------

// Webex REST ids are unpadded base64url of "ciscospark://us/PEOPLE/<uuid>"; some clients
// (iOS) put the bare uuid in data-object-id instead. Returns the uuid, or empty.
std::string uuid_of(std::string_view rest_id) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string decoded;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : rest_id) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) return {};
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (!decoded.starts_with("ciscospark://")) return {};
  const auto slash = decoded.rfind('/');
  return slash == std::string::npos ? std::string() : decoded.substr(slash + 1);
}

struct BotId {
  std::string_view id;
  std::string uuid;
  explicit BotId(std::string_view bot_id) : id(bot_id), uuid(uuid_of(bot_id)) {}
  bool matches(std::string_view other) const {
    if (id.empty() || other.empty()) return false;
    return other == id || (!uuid.empty() && iequals(other, uuid));
  }
};

bool mentions_bot(const ChatMessage& m, const BotId& bot) {
  for (const auto& p : m.mentioned_people)
    if (bot.matches(p)) return true;
  return false;
}

// ---- group rooms: the text after the bot's leading mention ----------------------------------

struct AfterMention {
  std::string text;     // raw: still to be trimmed and checked
  std::string ignored;  // why there is no command
};

AfterMention after_html_mention(const ChatMessage& m, const BotId& bot) {
  const std::string_view html = m.html;
  std::size_t i = 0;
  // Opening tags (<p>, <div>...) and white space may come first; any text or closing tag
  // means the message does not start with a mention.
  for (;;) {
    for (;;) {  // white space, no-break spaces included
      if (i < html.size() && is_space(html[i])) ++i;
      else if (html.substr(i).starts_with("\xC2\xA0")) i += 2;
      else if (html.substr(i).starts_with("&nbsp;")) i += 6;
      else break;
    }
    if (i >= html.size() || html[i] != '<') return {{}, "group message does not start with a mention of the bot"};
    auto tag = read_tag(html, i);
    if (!tag || tag->closing) return {{}, "group message does not start with a mention of the bot"};
    i = tag->end;
    if (!iequals(tag->name, "spark-mention")) continue;

    const auto type = attribute(tag->attrs, "data-object-type");
    const auto id = attribute(tag->attrs, "data-object-id");
    const bool person = !type || iequals(*type, "person");
    const bool is_bot = person && (id ? bot.matches(*id) : mentions_bot(m, bot));
    if (!is_bot) return {{}, "group message starts with a mention of someone else"};
    // The display text may be a first name only: skip to the closing tag, whatever it says.
    while (i < html.size()) {
      const auto lt = html.find('<', i);
      if (lt == std::string_view::npos) break;
      auto inner = read_tag(html, lt);
      i = inner ? inner->end : lt + 1;
      if (inner && inner->closing && iequals(inner->name, "spark-mention")) return {html_to_text(html.substr(i)), {}};
    }
    return {{}, "the bot's mention is not closed in the message html"};
  }
}

// Without html: the text starts with the mention's display text, the bot's display name or
// (as Webex clients often show) its first word.
AfterMention after_text_mention(const ChatMessage& m, const BotId& bot, std::string_view display_name) {
  if (!mentions_bot(m, bot)) return {{}, "group message without html does not mention the bot"};
  const std::string_view name = trim(display_name);
  if (name.empty()) return {{}, "group message without html: cannot tell where the bot's mention ends"};
  const std::string text = nbsp_to_space(m.text);
  std::string_view candidates[2] = {name, name.substr(0, name.find(' '))};
  for (auto candidate : candidates) {
    if (candidate.empty() || !istarts_with(text, candidate)) continue;
    const std::string_view rest = std::string_view(text).substr(candidate.size());
    if (!rest.empty() && (is_alpha(rest.front()) || is_digit(rest.front()))) continue;  // "Zparkle"
    return {std::string(rest), {}};
  }
  return {{}, "group message text does not start with the bot's name"};
}

std::string_view skip_delimiters(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == ',' || s.front() == ':' || s.front() == ';'))
    s.remove_prefix(1);
  return s;
}

Extracted ignore(std::string why) {
  Extracted e;
  e.ignored = std::move(why);
  return e;
}

// The shared checks and normalisation of a command's raw text.
Extracted finish(std::string_view raw) {
  const std::string spaced = nbsp_to_space(raw);
  const std::string_view text = trim(spaced);
  if (text.empty()) return ignore("empty command");
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = decode_utf8(text, i);
    if (!cp) return ignore("command is not valid UTF-8");
    const auto v = cp->value;
    // Inside the command a line break, tab or other control character means this is not a
    // one-line command (a pasted log, a two-line message): refuse rather than guess.
    if (v < 0x20 || v == 0x7F || (v >= 0x80 && v <= 0x9F)) return ignore("command holds a line break or control character");
    ++chars;
    i += cp->size;
  }
  if (chars > kMaxCommandLength) return ignore("command longer than " + std::to_string(kMaxCommandLength) + " characters");
  Extracted e;
  for (char c : text) {
    if (c == ' ' && !e.original.empty() && e.original.back() == ' ') continue;
    e.original += c;
  }
  e.text = lower_ascii(e.original);
  return e;
}

Extracted extract(const ChatMessage& m, std::string_view bot_id, std::string_view display_name) {
  const BotId bot(bot_id);
  if (!m.person_id.empty() && m.person_id == bot_id) return ignore("the bot's own message");
  if (m.room_type == "direct") return finish(m.text);
  // Anything but "direct" (a missing room type too) needs the mention: answering every
  // message of a group room would be worse than ignoring one.
  if (bot_id.empty()) return ignore("group message, but the bot's own id is unknown");
  AfterMention a = m.html.empty() ? after_text_mention(m, bot, display_name) : after_html_mention(m, bot);
  if (!a.ignored.empty()) return ignore(std::move(a.ignored));
  const std::string spaced = nbsp_to_space(a.text);
  return finish(skip_delimiters(spaced));
}

// ---- parsing --------------------------------------------------------------------------------

struct Token {
  std::string text;
  bool quoted = false;
  std::size_t end = 0;  // offset in the tokenized text just after the token (and its quote)
};

// Splits on spaces; "..." (or “...”) groups words. Returns false for an unclosed quote.
bool tokenize(std::string_view s, std::vector<Token>& out) {
  Token cur;
  bool in_token = false, in_quote = false;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t quote_len = 0;
    if (s[i] == '"') quote_len = 1;
    else if (s.substr(i).starts_with("\xE2\x80\x9C") || s.substr(i).starts_with("\xE2\x80\x9D")) quote_len = 3;
    if (quote_len) {
      in_quote = !in_quote;
      in_token = true;
      cur.quoted = true;
      i += quote_len;
      cur.end = i;
      continue;
    }
    if (s[i] == ' ' && !in_quote) {
      if (in_token) out.push_back(std::move(cur));
      cur = {};
      in_token = false;
    } else {
      cur.text += s[i];
      in_token = true;
      cur.end = i + 1;
    }
    ++i;
  }
  if (in_token) out.push_back(std::move(cur));
  return !in_quote;
}

constexpr std::string_view kLevelsHint =
    "severity must be not classified, information, warning, average, high, disaster or 0 to 5";

// A severity level at toks[i] (two tokens for "not classified"); advances i.
std::optional<int> read_level(const std::vector<Token>& toks, std::size_t& i) {
  if (i >= toks.size()) return std::nullopt;
  const std::string w = lower_ascii(toks[i].text);
  if (w == "not" && !toks[i].quoted && i + 1 < toks.size() && lower_ascii(toks[i + 1].text) == "classified") {
    i += 2;
    return 0;
  }
  static constexpr std::pair<std::string_view, int> names[] = {
      {"not classified", 0}, {"information", 1}, {"info", 1},     {"warning", 2}, {"average", 3},
      {"high", 4},           {"disaster", 5},    {"0", 0},        {"1", 1},       {"2", 2},
      {"3", 3},              {"4", 4},           {"5", 5}};
  for (const auto& [name, level] : names)
    if (w == name) {
      ++i;
      return level;
    }
  return std::nullopt;
}

void parse_issue_filters(const std::vector<Token>& toks, std::size_t i, Command& c) {
  bool seen_severity = false, seen_host = false, seen_group = false, seen_limit = false;
  auto once = [&c](bool& seen, std::string_view what) {
    if (seen) c.problem = std::string(what) + " is given twice";
    seen = true;
    return c.problem.empty();
  };
  while (i < toks.size() && c.problem.empty()) {
    const Token& t = toks[i];
    const std::string w = t.quoted ? std::string() : lower_ascii(t.text);
    std::string_view keyword;
    for (std::string_view k : {"severity", "sev"})
      if (w.starts_with(k)) {
        keyword = k;
        break;
      }
    if (!keyword.empty() && (w.size() == keyword.size() || w.substr(keyword.size()).starts_with(">=") ||
                             std::string_view("=<>:").find(w[keyword.size()]) != std::string_view::npos)) {
      if (!once(seen_severity, "severity")) return;
      std::string_view rest = std::string_view(w).substr(keyword.size());
      ++i;
      if (rest.empty() && i < toks.size() && !toks[i].quoted && toks[i].text.starts_with(">=")) {
        rest = toks[i].text;  // "severity >=high" or "severity >= high"
        ++i;
      }
      if (!rest.empty() && !rest.starts_with(">=")) {
        c.problem = "write severity>=LEVEL, for example severity>=high";
        return;
      }
      if (rest.size() > 2) {  // "severity>=high": the level is in this token
        std::vector<Token> level{{std::string(rest.substr(2)), false}};
        if (lower_ascii(rest.substr(2)) == "not" && i < toks.size() && lower_ascii(toks[i].text) == "classified") {
          c.min_severity = 0;
          ++i;
          continue;
        }
        std::size_t k = 0;
        auto v = read_level(level, k);
        if (!v) {
          c.problem = kLevelsHint;
          return;
        }
        c.min_severity = *v;
        continue;
      }
      auto v = read_level(toks, i);
      if (!v) {
        c.problem = kLevelsHint;
        return;
      }
      c.min_severity = *v;
    } else if (w == "host" || w == "group") {
      const bool host = w == "host";
      if (!once(host ? seen_host : seen_group, w)) return;
      if (i + 1 >= toks.size() || toks[i + 1].text.empty()) {
        c.problem = "write a name after " + w + " (in double quotes when it has spaces)";
        return;
      }
      (host ? c.host : c.group) = toks[i + 1].text;
      i += 2;
    } else if (w == "limit") {
      if (!once(seen_limit, "limit")) return;
      const std::string n = i + 1 < toks.size() ? toks[i + 1].text : std::string();
      std::size_t value = 0;
      bool ok = !n.empty() && n.size() <= 3;
      for (char d : n) {
        if (!is_digit(d)) ok = false;
        else value = value * 10 + static_cast<std::size_t>(d - '0');
      }
      if (!ok || value < 1 || value > 50) {
        c.problem = "limit must be a number from 1 to 50";
        return;
      }
      c.limit = value;
      i += 2;
    } else {
      c.problem = "I don't understand \"" + t.text +
                  "\" after show issues; the filters are severity>=LEVEL, host NAME, group NAME and "
                  "limit N (names with spaces in double quotes)";
      return;
    }
  }
}

// The rest of `source` after the token at toks[i], as written (quotes and all), trimmed.
std::string rest_after(std::string_view source, const std::vector<Token>& toks, std::size_t i) {
  return std::string(trim(source.substr(std::min(toks[i].end, source.size()))));
}

// An event or maintenance id: digits only (up to 20, Zabbix ids are 64-bit), a leading '#'
// allowed ("#8812" as people copy it).
std::optional<std::string> read_id(const Token& t) {
  if (t.quoted) return std::nullopt;
  std::string_view s = t.text;
  if (s.starts_with('#')) s.remove_prefix(1);
  if (s.empty() || s.size() > 20 || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  return std::string(s);
}

// ack / unack / close / comment [EVENTID] [message]
void parse_event_command(std::string_view source, const std::vector<Token>& toks, Command& c) {
  std::size_t last = 0;  // the token the message follows
  if (toks.size() > 1) {
    if (auto id = read_id(toks[1])) {
      c.id = *id;
      last = 1;
    }
  }
  c.message = rest_after(source, toks, last);
  if (c.kind == Command::Kind::comment && c.message.empty())
    c.problem = "write your comment after comment and the event id, for example comment 8812 disk replaced";
}

constexpr std::string_view kMaintenanceHelp =
    "write maintenance host NAME DURATION [reason], maintenance group NAME DURATION [reason], "
    "maintenance list or maintenance end ID";
constexpr std::string_view kDurationHint =
    "the duration must be from 5m to 30d, written like 30m, 2h, 1d or 1h30m";

// maintenance host|group NAME DURATION [reason], from toks[2] on.
void parse_maintenance_create(std::string_view source, const std::vector<Token>& toks, bool closed, Command& c) {
  const bool group = lower_ascii(toks[1].text) == "group";
  const std::string what = group ? "group" : "host";
  const std::string example = group ? "maintenance group \"Linux servers\" 2h kernel update"
                                    : "maintenance host db01 2h disk swap";
  if (!closed) {
    c.problem = "a double quote is not closed";
    return;
  }
  // NAME: one quoted name, or the words up to the first duration.
  std::size_t d = 2;
  if (d < toks.size() && toks[d].quoted) {
    ++d;
  } else {
    while (d < toks.size() && (d == 2 || toks[d].quoted || !parse_duration(toks[d].text))) ++d;
  }
  std::string name;
  for (std::size_t i = 2; i < d && i < toks.size(); ++i) {
    if (i > 2) name += ' ';
    name += toks[i].text;
  }
  // "maintenance host 2h": the name is what is missing.
  const bool only_a_duration = toks.size() == 3 && !toks[2].quoted && parse_duration(toks[2].text);
  if (name.empty() || only_a_duration) {
    c.problem = "write the " + what + "'s name and how long after maintenance " + what + ", for example " + example;
    return;
  }
  (group ? c.group : c.host) = name;
  if (d >= toks.size()) {
    c.problem = "write how long after the " + what + "'s name, for example " + example;
    return;
  }
  const auto seconds = toks[d].quoted ? std::nullopt : parse_duration(toks[d].text);
  if (!seconds) {
    c.problem = std::string(kDurationHint) + " (put a name with spaces in double quotes)";
    return;
  }
  if (*seconds < kMinMaintenanceSeconds || *seconds > kMaxMaintenanceSeconds) {
    c.problem = std::string(kDurationHint);
    return;
  }
  c.duration = *seconds;
  c.message = rest_after(source, toks, d);
}

void parse_maintenance(std::string_view source, const std::vector<Token>& toks, bool closed, Command& c) {
  const std::string w1 = toks.size() > 1 && !toks[1].quoted ? lower_ascii(toks[1].text) : std::string();
  if (w1 == "host" || w1 == "group") {
    c.kind = Command::Kind::maintenance_create;
    parse_maintenance_create(source, toks, closed, c);
  } else if (w1 == "list") {
    c.kind = Command::Kind::maintenance_list;
    if (toks.size() > 2) c.problem = "maintenance list takes nothing after it";
  } else if (w1 == "end") {
    c.kind = Command::Kind::maintenance_end;
    auto id = toks.size() == 3 ? read_id(toks[2]) : std::nullopt;
    if (id) c.id = *id;
    else c.problem = "write the maintenance's id after maintenance end, for example maintenance end 17 (maintenance list shows them)";
  } else {
    c.kind = Command::Kind::maintenance_create;
    c.problem = std::string(kMaintenanceHelp);
  }
}

constexpr std::string_view kGraphExample = "graph db01 system.cpu.load 6h";

// graph HOST ITEM [PERIOD]
void parse_graph(const std::vector<Token>& toks, bool closed, Command& c) {
  c.kind = Command::Kind::graph;
  if (!closed) {
    c.problem = "a double quote is not closed";
    return;
  }
  if (toks.size() < 3) {
    c.problem = "write the host and the item (its key or name) after graph, for example " + std::string(kGraphExample);
    return;
  }
  c.host = toks[1].text;
  std::size_t end = toks.size();
  const Token& last = toks.back();
  if (toks.size() > 3 && !last.quoted) {
    if (auto seconds = parse_duration(last.text)) {
      if (*seconds < 60 || *seconds > 730 * 86400) {
        c.problem = "the period must be from 1m to 730d, written like 30m, 6h, 1d or 1w";
        return;
      }
      c.duration = *seconds;
      --end;
    }
  }
  for (std::size_t i = 2; i < end; ++i) {
    if (i > 2) c.name += ' ';
    c.name += toks[i].text;
  }
  if (c.host.empty() || c.name.empty())
    c.problem = "write the host and the item (its key or name) after graph, for example " + std::string(kGraphExample);
}

}  // namespace

ChatMessage chat_message_from_json(const json::value& v) {
  ChatMessage m;
  const auto* o = v.if_object();
  if (!o) return m;
  auto str = [o](std::string_view key) {
    auto* p = o->if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  m.id = str("id");
  m.room_id = str("roomId");
  m.room_type = str("roomType");
  m.person_id = str("personId");
  m.person_email = str("personEmail");
  m.parent_id = str("parentId");
  m.text = str("text");
  m.html = str("html");
  if (auto* p = o->if_contains("mentionedPeople"); p && p->is_array())
    for (const auto& id : p->get_array())
      if (id.is_string()) m.mentioned_people.emplace_back(id.get_string());
  return m;
}

Extracted extract_command(const ChatMessage& m, std::string_view bot_id) { return extract(m, bot_id, {}); }

Extracted extract_command(const ChatMessage& m, std::string_view bot_id, std::string_view bot_display_name) {
  return extract(m, bot_id, bot_display_name);
}

const char* to_string(Command::Kind kind) {
  switch (kind) {
    case Command::Kind::help: return "help";
    case Command::Kind::show_issues: return "show issues";
    case Command::Kind::show_status: return "show status";
    case Command::Kind::show_host: return "show host";
    case Command::Kind::ack: return "ack";
    case Command::Kind::unack: return "unack";
    case Command::Kind::close: return "close";
    case Command::Kind::comment: return "comment";
    case Command::Kind::maintenance_create: return "maintenance create";
    case Command::Kind::maintenance_list: return "maintenance list";
    case Command::Kind::maintenance_end: return "maintenance end";
    case Command::Kind::graph: return "graph";
    case Command::Kind::unknown: return "unknown";
  }
  return "unknown";
}

bool is_event_command(Command::Kind kind) {
  return kind == Command::Kind::ack || kind == Command::Kind::unack || kind == Command::Kind::close ||
         kind == Command::Kind::comment;
}

std::optional<std::int64_t> parse_duration(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    const std::size_t digits = i;
    while (i < text.size() && is_digit(text[i]) && i - digits < 6) n = n * 10 + (text[i++] - '0');
    if (i == digits || (i < text.size() && is_digit(text[i]))) return std::nullopt;
    const std::size_t unit_begin = i;
    while (i < text.size() && is_alpha(text[i])) ++i;
    const std::string unit = lower_ascii(text.substr(unit_begin, i - unit_begin));
    std::int64_t scale = 0;
    if (unit == "m" || unit == "min") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit == "d") scale = 86400;
    else if (unit == "w") scale = 7 * 86400;
    else return std::nullopt;
    total += n * scale;
  }
  return total;
}

Command parse_command(std::string_view normalised, std::string_view original) {
  Command c;
  // Names keep the case the user wrote, as long as `original` is the same command.
  const std::string_view source = lower_ascii(original) == normalised ? original : normalised;
  std::vector<Token> toks;
  const bool closed = tokenize(source, toks);
  if (toks.empty()) return c;
  const std::string w0 = toks[0].quoted ? std::string() : lower_ascii(toks[0].text);
  if (w0 == "hello" || w0 == "help") {
    c.kind = Command::Kind::help;
    return c;
  }
  static constexpr std::pair<std::string_view, Command::Kind> event_verbs[] = {
      {"ack", Command::Kind::ack},         {"acknowledge", Command::Kind::ack},
      {"unack", Command::Kind::unack},     {"unacknowledge", Command::Kind::unack},
      {"close", Command::Kind::close},     {"comment", Command::Kind::comment}};
  for (const auto& [verb, kind] : event_verbs) {
    if (w0 == verb) {
      c.kind = kind;
      parse_event_command(source, toks, c);
      return c;
    }
  }
  if (w0 == "maintenance") {
    parse_maintenance(source, toks, closed, c);
    return c;
  }
  if (w0 == "graph") {
    parse_graph(toks, closed, c);
    return c;
  }
  if (w0 != "show" || toks.size() < 2 || toks[1].quoted) return c;
  const std::string w1 = lower_ascii(toks[1].text);
  if (w1 == "issues" || w1 == "problems") {
    c.kind = Command::Kind::show_issues;
    if (!closed) c.problem = "a double quote is not closed";
    else parse_issue_filters(toks, 2, c);
  } else if (w1 == "status") {
    c.kind = Command::Kind::show_status;
    if (toks.size() > 2) c.problem = "show status takes nothing after it";
  } else if (w1 == "host") {
    c.kind = Command::Kind::show_host;
    if (!closed) {
      c.problem = "a double quote is not closed";
      return c;
    }
    for (std::size_t i = 2; i < toks.size(); ++i) {
      if (i > 2) c.name += ' ';
      c.name += toks[i].text;
    }
    if (c.name.empty()) c.problem = "write the host's name after show host, for example show host db01";
  }
  return c;
}

}  // namespace zpark::spark
