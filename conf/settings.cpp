#include "conf/settings.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

extern char** environ;

namespace zpark::conf {
namespace {

namespace json = boost::json;

const char* const kSecrets[] = {"ZPARK_API_TOKEN", "SPARK_ACCESS_TOKEN", "SPARK_WEBHOOK_SECRET",
                                "ZABBIX_PASSWORD", "ZABBIX_API_TOKEN", "ZPARK_DATABASE_PASSWORD"};

bool is_secret(std::string_view name) {
  return std::find(std::begin(kSecrets), std::end(kSecrets), name) != std::end(kSecrets);
}

}  // namespace

std::string redact_url_password(const std::string& url) {
  // postgresql://user:SECRET@host/db?password=SECRET: both forms hidden.
  std::string out = url;
  // The user info ends at the first '@' (of the authority, when there is a "://"); all from
  // its first ':' on is the password. Without "://" (a mistyped URL) the whole start counts.
  const auto scheme = out.find("://");
  const auto from = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = out.find('@', from);
  const auto slash = scheme == std::string::npos ? std::string::npos : out.find('/', from);
  const auto colon = out.find(':', from);
  if (at != std::string::npos && (slash == std::string::npos || at < slash) && colon != std::string::npos && colon < at)
    out.replace(colon + 1, at - colon - 1, "***");
  for (auto pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    auto end = out.find('&', pos);
    out.replace(pos + 9, (end == std::string::npos ? out.size() : end) - pos - 9, "***");
  }
  return out;
}

namespace {

std::string read_file(const std::string& setting, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SettingsError(setting, "cannot read file '" + path + "'; check the path and its permissions");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string scalar_text(const std::string& name, const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return std::string(v.get_string());
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::double_: return json::serialize(v);
    default: throw SettingsError(name, "in the config file it must be a string, number or boolean");
  }
}

// Where values come from: the environment first, then the config file.
class Source {
 public:
  Source(const Environment& env, const std::optional<std::string>& file) : env_(env) {
    if (!file) return;
    auto text = read_file("--config", *file);
    json::parse_options opts;
    opts.allow_comments = true;
    opts.allow_trailing_commas = true;
    boost::system::error_code ec;
    auto v = json::parse(text, ec, {}, opts);
    if (ec || !v.is_object())
      throw SettingsError("--config", "'" + *file + "' is not a JSON object (" +
                                          (ec ? ec.message() : std::string("wrong type")) + ")");
    for (auto& [k, val] : v.get_object()) {
      std::string key(k);
      if (val.is_null()) continue;
      if (val.is_array()) {
        std::string joined;
        for (auto& item : val.get_array()) {
          if (!joined.empty()) joined += ',';
          joined += scalar_text(key, item);
        }
        file_[key] = joined;
      } else {
        file_[key] = scalar_text(key, val);
      }
    }
  }

  std::optional<std::string> get(const std::string& name) const {
    if (auto v = find(env_, name)) return v;
    if (is_secret(name))
      if (auto f = find(env_, name + "_FILE")) return trim_newline(read_file(name + "_FILE", *f));
    if (auto v = find(file_, name)) return v;
    if (is_secret(name))
      if (auto f = find(file_, name + "_FILE")) return trim_newline(read_file(name + "_FILE", *f));
    return std::nullopt;
  }

 private:
  static std::optional<std::string> find(const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  static std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  const Environment& env_;
  std::map<std::string, std::string> file_;
};

void set_string(const Source& src, const char* name, std::string& out) {
  if (auto v = src.get(name)) out = *v;
}

void set_bool(const Source& src, const char* name, bool& out) {
  auto v = src.get(name);
  if (!v) return;
  std::string t = *v;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") out = true;
  else if (t == "false" || t == "0" || t == "no" || t == "off") out = false;
  else throw SettingsError(name, "'" + *v + "' is not a boolean; use true or false");
}

template <class T>
void set_number(const Source& src, const char* name, T& out, unsigned long long min,
                unsigned long long max, int base = 10) {
  auto v = src.get(name);
  if (!v) return;
  unsigned long long n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n, base);
  if (v->empty() || ec != std::errc{} || end != v->data() + v->size() || n < min || n > max)
    throw SettingsError(name, "'" + *v + "' is not a whole number from " + std::to_string(min) +
                                  " to " + std::to_string(max));
  out = static_cast<T>(n);
}

void set_seconds(const Source& src, const char* name, std::chrono::seconds& out, unsigned long long min,
                 unsigned long long max) {
  auto n = static_cast<unsigned long long>(out.count());
  set_number(src, name, n, min, max);
  out = std::chrono::seconds(n);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    if (!item.empty()) out.push_back(item);
    item.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n') flush();
    else item += c;
  }
  flush();
  return out;
}

void check_url(const char* name, const std::string& url, bool https_only) {
  auto u = boost::urls::parse_absolute_uri(url);
  bool ok = u && (u->scheme() == "https" || (!https_only && u->scheme() == "http")) && !u->host().empty();
  if (!ok)
    throw SettingsError(name, "'" + url + "' is not an " + (https_only ? "https" : "http(s)") + " URL");
}

std::string prefix_of(const std::string& server_url) {
  auto u = boost::urls::parse_absolute_uri(server_url);
  if (!u) throw SettingsError("ZPARK_SERVER_URL", "'" + server_url + "' is not a URL such as https://host/zpark");
  std::string path(u->path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

Settings load_settings(const Environment& env, const std::optional<std::string>& config_file) {
  Source src(env, config_file);
  Settings s;

  set_string(src, "ZPARK_API_TOKEN", s.api_token);
  if (s.api_token.empty())
    throw SettingsError("ZPARK_API_TOKEN",
                        "is missing; set it to a long random string (e.g. `openssl rand -hex 32`) "
                        "that Zabbix sends in the Token header");

  set_string(src, "ZPARK_SERVER_URL", s.server_url);
  if (!s.server_url.empty()) {
    check_url("ZPARK_SERVER_URL", s.server_url, false);
    s.path_prefix = prefix_of(s.server_url);
  }

  std::string listen = "127.0.0.1:8080";
  set_string(src, "ZPARK_LISTEN", listen);
  for (auto& item : split_list(listen)) {
    auto a = parse_listen_address(item);
    if (!a)
      throw SettingsError("ZPARK_LISTEN", "'" + item +
                                              "' is not HOST:PORT, [IPV6]:PORT, :PORT or unix:/path");
    s.listen.push_back(*a);
  }
  if (s.listen.empty()) throw SettingsError("ZPARK_LISTEN", "is empty; give at least one address");
  set_number(src, "ZPARK_SOCKET_MODE", s.socket_mode, 0, 0777, 8);
  set_string(src, "ZPARK_TLS_CERT", s.tls_cert);
  set_string(src, "ZPARK_TLS_KEY", s.tls_key);
  if (s.tls_cert.empty() != s.tls_key.empty())
    throw SettingsError(s.tls_cert.empty() ? "ZPARK_TLS_CERT" : "ZPARK_TLS_KEY",
                        "TLS needs both ZPARK_TLS_CERT and ZPARK_TLS_KEY");
  set_number(src, "ZPARK_MAX_CONNECTIONS", s.max_connections, 1, 1000000);
  set_seconds(src, "ZPARK_READ_TIMEOUT", s.read_timeout, 1, 3600);
  set_seconds(src, "ZPARK_IDLE_TIMEOUT", s.idle_timeout, 1, 3600);
  set_seconds(src, "ZPARK_SHUTDOWN_TIMEOUT", s.shutdown_timeout, 0, 3600);
  set_number(src, "ZPARK_ALERT_MAX_BYTES", s.alert_body_limit, 1024, 64u << 20);
  set_number(src, "MAX_CONTENT_LENGTH", s.webhook_body_limit, 1024, 64u << 20);

  set_string(src, "SPARK_ACCESS_TOKEN", s.spark_token);
  set_string(src, "SPARK_WEBHOOK_SECRET", s.webhook_secret);
  if (auto v = src.get("SPARK_TRUSTED_USERS")) {
    // The original took a Python list (['a@example.com', '@example.org']): accept its brackets
    // and quotes too.
    std::string plain;
    for (char c : *v) plain += (c == '[' || c == ']' || c == '\'' || c == '"') ? ' ' : c;
    s.trusted_users = split_list(plain);
  }
  set_string(src, "ZPARK_CONTACT_INFO", s.contact_info);
  set_string(src, "WEBEX_API_URL", s.webex_api_url);
  check_url("WEBEX_API_URL", s.webex_api_url, false);
  set_string(src, "WEBEX_CA_FILE", s.webex_ca_file);
  set_number(src, "WEBEX_POOL_SIZE", s.webex_pool_size, 1, 64);

  set_string(src, "ZABBIX_SERVER_URL", s.zabbix_url);
  check_url("ZABBIX_SERVER_URL", s.zabbix_url, false);
  set_string(src, "ZABBIX_USERNAME", s.zabbix_username);
  set_string(src, "ZABBIX_PASSWORD", s.zabbix_password);
  set_string(src, "ZABBIX_API_TOKEN", s.zabbix_api_token);
  set_bool(src, "ZABBIX_TLS_CERT_VERIFY", s.zabbix_tls_verify);
  set_string(src, "ZABBIX_CA_FILE", s.zabbix_ca_file);
  set_string(src, "ZABBIX_SERVER_ADDRESS", s.zabbix_server_address);
  if (s.zabbix_server_address.find_first_of(" /") != std::string::npos)
    throw SettingsError("ZABBIX_SERVER_ADDRESS", "'" + s.zabbix_server_address +
                                                     "' is not HOST or HOST:PORT of the Zabbix server (trapper port, 10051)");
  set_number(src, "ZPARK_COMMAND_RETRIES", s.command_retries, 0, 20);
  set_seconds(src, "ZPARK_COMMAND_RETRY_DELAY", s.command_retry_delay, 1, 3600);
  set_seconds(src, "ZPARK_WEBHOOK_CHECK_INTERVAL", s.webhook_check_interval, 0, 86400);
  set_bool(src, "ZPARK_ALERT_CARDS", s.alert_cards);
  set_bool(src, "ZPARK_GRAPHS", s.graphs);
  set_seconds(src, "ZPARK_GRAPH_PERIOD", s.graph_period, 60, 2 * 365 * 86400);

  set_string(src, "ZPARK_DATA_DIR", s.data_dir);
  if (s.data_dir.empty()) throw SettingsError("ZPARK_DATA_DIR", "is empty; name a writable directory");
  set_bool(src, "ZPARK_FSYNC", s.fsync);
  set_string(src, "ZPARK_DATABASE_URL", s.database_url);
  if (!s.database_url.empty() && s.database_url.rfind("postgresql://", 0) != 0 && s.database_url.rfind("postgres://", 0) != 0)
    throw SettingsError("ZPARK_DATABASE_URL", "'" + redact_url_password(s.database_url) +
                                                  "' is not a PostgreSQL URL (postgresql://user@host:port/database?sslmode=...)");
  set_string(src, "ZPARK_DATABASE_PASSWORD", s.database_password);
  set_number(src, "ZPARK_DATABASE_POOL", s.database_pool, 1, 32);
  set_seconds(src, "ZPARK_ALERT_MAX_AGE", s.alert_max_age, 1, 30 * 86400);
  set_seconds(src, "ZPARK_DEDUP_WINDOW", s.dedup_window, 0, 30 * 86400);
  set_bool(src, "ZPARK_EDIT_ON_RECOVERY", s.edit_on_recovery);
  set_bool(src, "ZPARK_ESCAPE_MESSAGE", s.escape_message);
  set_string(src, "ZPARK_ADMIN_ROOM", s.admin_room);

  set_string(src, "ZPARK_LOG_LEVEL", s.log_level);
  if (s.log_level != "debug" && s.log_level != "info" && s.log_level != "warn" && s.log_level != "error")
    throw SettingsError("ZPARK_LOG_LEVEL", "'" + s.log_level + "' is not debug, info, warn or error");
  return s;
}

std::string Settings::commands_off_reason() const {
  if (webhook_secret.empty())
    return "SPARK_WEBHOOK_SECRET is not set: bot commands are off (set it and register the webhook "
           "with `zpark webhook create`)";
  if (dry_run()) return "SPARK_ACCESS_TOKEN is not set (dry-run): bot commands are off";
  return {};
}

std::string Settings::graphs_off_reason() const {
  if (!graphs) return "ZPARK_GRAPHS=false";
  if (dry_run()) return "SPARK_ACCESS_TOKEN is not set (dry-run)";
  if (zabbix_username.empty())
    return zabbix_api_token.empty()
               ? "ZABBIX_USERNAME/ZABBIX_PASSWORD are not set"
               : "ZABBIX_API_TOKEN cannot open a Zabbix frontend session for chart.php; set "
                 "ZABBIX_USERNAME/ZABBIX_PASSWORD for graphs";
  return {};
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::vector<std::pair<std::string, std::string>> describe(const Settings& s) {
  auto secret = [](const std::string& v) {
    return v.empty() ? std::string("(not set)") : "(set, " + std::to_string(v.size()) + " chars hidden)";
  };
  auto text = [](const std::string& v) { return v.empty() ? std::string("(not set)") : v; };
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  std::string listen;
  for (auto& l : s.listen) listen += (listen.empty() ? "" : ",") + l.to_string();
  std::string trusted;
  for (auto& t : s.trusted_users) trusted += (trusted.empty() ? "" : ",") + t;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", s.socket_mode);
  return {
      {"ZPARK_API_TOKEN", secret(s.api_token)},
      {"ZPARK_SERVER_URL", text(s.server_url)},
      {"ZPARK_LISTEN", listen},
      {"ZPARK_SOCKET_MODE", mode},
      {"ZPARK_TLS_CERT", text(s.tls_cert)},
      {"ZPARK_TLS_KEY", text(s.tls_key)},
      {"ZPARK_MAX_CONNECTIONS", std::to_string(s.max_connections)},
      {"ZPARK_READ_TIMEOUT", std::to_string(s.read_timeout.count())},
      {"ZPARK_IDLE_TIMEOUT", std::to_string(s.idle_timeout.count())},
      {"ZPARK_SHUTDOWN_TIMEOUT", std::to_string(s.shutdown_timeout.count())},
      {"ZPARK_ALERT_MAX_BYTES", std::to_string(s.alert_body_limit)},
      {"MAX_CONTENT_LENGTH", std::to_string(s.webhook_body_limit)},
      {"SPARK_ACCESS_TOKEN", s.spark_token.empty() ? "(not set: dry-run)" : secret(s.spark_token)},
      {"SPARK_WEBHOOK_SECRET", secret(s.webhook_secret)},
      {"SPARK_TRUSTED_USERS", trusted.empty() ? "(nobody)" : trusted},
      {"ZPARK_CONTACT_INFO", text(s.contact_info)},
      {"WEBEX_API_URL", s.webex_api_url},
      {"WEBEX_CA_FILE", text(s.webex_ca_file)},
      {"WEBEX_POOL_SIZE", std::to_string(s.webex_pool_size)},
      {"ZABBIX_SERVER_URL", s.zabbix_url},
      {"ZABBIX_USERNAME", text(s.zabbix_username)},
      {"ZABBIX_PASSWORD", secret(s.zabbix_password)},
      {"ZABBIX_API_TOKEN", secret(s.zabbix_api_token)},
      {"ZABBIX_TLS_CERT_VERIFY", flag(s.zabbix_tls_verify)},
      {"ZABBIX_CA_FILE", text(s.zabbix_ca_file)},
      {"ZABBIX_SERVER_ADDRESS", text(s.zabbix_server_address)},
      {"ZPARK_COMMAND_RETRIES", std::to_string(s.command_retries)},
      {"ZPARK_COMMAND_RETRY_DELAY", std::to_string(s.command_retry_delay.count())},
      {"ZPARK_WEBHOOK_CHECK_INTERVAL", std::to_string(s.webhook_check_interval.count())},
      {"ZPARK_ALERT_CARDS", s.cards_on() ? "true" : s.alert_cards ? "true (off: bot commands are off)" : "false"},
      {"ZPARK_GRAPHS", flag(s.graphs)},
      {"ZPARK_GRAPH_PERIOD", std::to_string(s.graph_period.count())},
      {"ZPARK_DATA_DIR", s.data_dir},
      {"ZPARK_FSYNC", flag(s.fsync)},
      {"ZPARK_DATABASE_URL", s.database_url.empty() ? "(not set: SQLite outbox in ZPARK_DATA_DIR)" : redact_url_password(s.database_url)},
      {"ZPARK_DATABASE_PASSWORD", secret(s.database_password)},
      {"ZPARK_DATABASE_POOL", std::to_string(s.database_pool)},
      {"ZPARK_ALERT_MAX_AGE", std::to_string(s.alert_max_age.count())},
      {"ZPARK_DEDUP_WINDOW", std::to_string(s.dedup_window.count())},
      {"ZPARK_EDIT_ON_RECOVERY", flag(s.edit_on_recovery)},
      {"ZPARK_ESCAPE_MESSAGE", flag(s.escape_message)},
      {"ZPARK_ADMIN_ROOM", text(s.admin_room)},
      {"ZPARK_LOG_LEVEL", s.log_level},
  };
}

}  // namespace zpark::conf
