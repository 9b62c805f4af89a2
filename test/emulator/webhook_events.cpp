#include "webhook_events.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "messages.hpp"

namespace emu {
namespace json = boost::json;
namespace {

struct FilterKeys {
  std::string_view resource;
  std::vector<std::string_view> keys;
};

// What the emulator can evaluate. Webex knows a few more (hasFiles, mentionedGroups, ...);
// refusing them beats silently matching everything.
const std::array<FilterKeys, 2> filter_keys = {{
    {"messages", {"roomId", "roomType", "personId", "personEmail", "mentionedPeople"}},
    {"attachmentActions", {"roomId", "personId", "personEmail", "messageId"}},
}};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding only: '+' stays a plus, as in "a+b@example.com".
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int a = hex_digit(s[i + 1]), b = hex_digit(s[i + 2]);
    if (a < 0 || b < 0) return std::nullopt;
    out.push_back(static_cast<char>(a * 16 + b));
    i += 2;
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool term_holds(const FilterTerm& t, const EventFacts& e, std::string_view bot_id) {
  if (t.key == "roomId") return e.room_id == t.value;
  if (t.key == "roomType") return e.resource == "messages" && e.room_type == t.value;
  if (t.key == "personId") return e.person_id == t.value;
  if (t.key == "personEmail") return e.person_email == to_lower(t.value);
  if (t.key == "messageId") return e.resource == "attachmentActions" && e.message_id == t.value;
  if (t.key == "mentionedPeople")
    return contains(e.mentioned, t.value == "me" ? std::string(bot_id) : t.value);
  return false;  // a key of a resource the emulator never delivers
}

}  // namespace

EventFacts message_facts(const Message& m) {
  EventFacts e;
  e.resource = "messages";
  e.event = "created";
  e.data_id = m.id;
  e.room_id = m.room_id;
  e.room_type = m.room_type;
  e.person_id = m.person_id;
  e.person_email = m.person_email;
  for (const auto& p : m.mentioned_people)
    if (p.is_string()) e.mentioned.emplace_back(p.get_string());
  return e;
}

EventFacts action_facts(const json::object& action, std::string person_email) {
  auto str = [&](std::string_view key) {
    const auto* v = action.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  EventFacts e;
  e.resource = "attachmentActions";
  e.event = "created";
  e.data_id = str("id");
  e.room_id = str("roomId");
  e.person_id = str("personId");
  e.person_email = std::move(person_email);
  e.message_id = str("messageId");
  return e;
}

Result<Filter> parse_filter(std::string_view text, std::string_view resource) {
  const FilterKeys* known = nullptr;
  for (const auto& k : filter_keys)
    if (k.resource == resource) known = &k;
  Filter f;
  if (text.empty()) return f;
  for (std::size_t at = 0; at <= text.size();) {
    auto end = std::min(text.find('&', at), text.size());
    std::string_view term = text.substr(at, end - at);
    at = end + 1;
    auto eq = term.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == term.size())
      return ApiError{
          400, "filter must be key=value terms joined with &, got '" + std::string(text) + "'"};
    std::string key(term.substr(0, eq));
    auto value = percent_decode(term.substr(eq + 1));
    if (!value) return ApiError{400, "filter value of " + key + " has a bad %-escape"};
    if (known && std::find(known->keys.begin(), known->keys.end(), key) == known->keys.end())
      return ApiError{400, "filter key " + key + " is not supported for resource " +
                               std::string(resource) + " by the emulator"};
    if (std::any_of(f.begin(), f.end(), [&](const FilterTerm& t) { return t.key == key; }))
      return ApiError{400, "filter names " + key + " twice"};
    if (key == "roomType" && *value != "group" && *value != "direct")
      return ApiError{400, "filter roomType must be group or direct"};
    f.push_back(FilterTerm{std::move(key), std::move(*value)});
  }
  return f;
}

bool filter_matches(const Filter& f, const EventFacts& e, std::string_view bot_id) {
  return std::all_of(f.begin(), f.end(),
                     [&](const FilterTerm& t) { return term_holds(t, e, bot_id); });
}

bool bot_sees(const EventFacts& e, std::string_view bot_id) {
  if (e.resource != "messages" || e.room_type != "group") return true;
  return e.person_id == bot_id || contains(e.mentioned, bot_id);
}

bool webhook_wants(const Webhook& h, const EventFacts& e, std::string_view bot_id) {
  if (h.status != "active") return false;
  if (h.resource != e.resource && h.resource != "all") return false;
  if (h.event != e.event && h.event != "all") return false;
  auto f = parse_filter(h.filter.value_or(""), e.resource);
  return f && filter_matches(*f, e, bot_id) && bot_sees(e, bot_id);
}

json::object message_event_data(const Message& m) {
  json::object d{{"id", m.id},
                 {"roomId", m.room_id},
                 {"roomType", m.room_type},
                 {"personId", m.person_id},
                 {"personEmail", m.person_email}};
  if (!m.mentioned_people.empty()) d["mentionedPeople"] = m.mentioned_people;
  d["created"] = m.created;
  if (!m.parent_id.empty()) d["parentId"] = m.parent_id;
  return d;
}

json::object action_event_data(const json::object& action) {
  json::object d;
  for (std::string_view key : {"id", "type", "messageId", "personId", "roomId", "created"})
    if (const auto* v = action.if_contains(key)) d[key] = *v;
  return d;
}

std::string envelope_body(const Webhook& h, const Owner& owner, const EventFacts& e,
                          const json::object& data) {
  json::object o;
  o["id"] = h.id;
  o["name"] = h.name;
  o["targetUrl"] = h.target_url;
  o["resource"] = e.resource;  // the event's, also for a webhook on "all"
  o["event"] = e.event;
  if (h.filter && !h.filter->empty()) o["filter"] = *h.filter;
  o["orgId"] = owner.org_id;
  o["createdBy"] = owner.bot_id;
  o["appId"] = owner.app_id;
  o["ownedBy"] = "creator";
  o["status"] = h.status;
  o["actorId"] = e.person_id;
  o["created"] = h.created;
  o["data"] = data;
  return json::serialize(o);
}

std::string hmac_sha1_hex(std::string_view key, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[mac[i] >> 4]);
    out.push_back(digits[mac[i] & 0xf]);
  }
  return out;
}

Result<Target> loopback_target(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return ApiError{400, "targetUrl is not a URL: " + std::string(url)};
  if (u->scheme_id() != boost::urls::scheme::http && u->scheme_id() != boost::urls::scheme::https)
    return ApiError{400, "targetUrl must be http or https: " + std::string(url)};
  std::string host = u->host_address();
  bool loopback = false;
  switch (u->host_type()) {
    case boost::urls::host_type::ipv4:
      loopback = host.starts_with("127.");
      break;
    case boost::urls::host_type::ipv6:
      loopback = host == "::1" || host == "0:0:0:0:0:0:0:1";
      break;
    case boost::urls::host_type::name:
      loopback = to_lower(host) == "localhost";
      break;
    default:
      break;
  }
  if (!loopback)
    return ApiError{400, "targetUrl host '" + host +
                             "' is not loopback; the emulator delivers only to 127.0.0.0/8, "
                             "::1 or localhost"};
  Target t;
  t.origin = std::string(u->scheme()) + "://" + std::string(u->encoded_host_and_port());
  t.target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) t.target += "?" + std::string(u->encoded_query());
  return t;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace emu
