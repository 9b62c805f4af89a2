#pragma once
// Zpark's settings: the original names (ZPARK_API_TOKEN, SPARK_ACCESS_TOKEN, ...) plus new
// ones in the same style. Read from the environment and an optional JSON config file
// (comments allowed, same key names); the environment wins. Every secret may also come from
// NAME_FILE. Plain data: no I/O besides reading the files named by the user.
#include "conf/listen.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace zpark::conf {

// A bad or missing setting: `setting` is its name, what() a sentence saying what to do.
struct SettingsError : std::runtime_error {
  std::string setting;
  SettingsError(std::string name, const std::string& why)
      : std::runtime_error(name + ": " + why), setting(std::move(name)) {}
};

struct Settings {
  // HTTP API
  std::string api_token;                 // ZPARK_API_TOKEN (required)
  std::string server_url;                // ZPARK_SERVER_URL (public URL; its path is the prefix)
  std::string path_prefix;               // derived: "/zpark" or empty
  std::vector<ListenAddress> listen;     // ZPARK_LISTEN, comma-separated
  unsigned socket_mode = 0660;           // ZPARK_SOCKET_MODE (octal)
  std::string tls_cert, tls_key;         // ZPARK_TLS_CERT / ZPARK_TLS_KEY
  std::size_t max_connections = 1024;    // ZPARK_MAX_CONNECTIONS
  std::chrono::seconds read_timeout{10};      // ZPARK_READ_TIMEOUT: whole request must arrive
  std::chrono::seconds idle_timeout{60};      // ZPARK_IDLE_TIMEOUT: keep-alive idle
  std::chrono::seconds shutdown_timeout{10};  // ZPARK_SHUTDOWN_TIMEOUT
  std::size_t alert_body_limit = 1 << 20;     // ZPARK_ALERT_MAX_BYTES
  std::size_t webhook_body_limit = 32768;     // MAX_CONTENT_LENGTH (original name)

  // Webex
  std::string spark_token;               // SPARK_ACCESS_TOKEN; empty = dry-run
  std::string webhook_secret;            // SPARK_WEBHOOK_SECRET
  std::vector<std::string> trusted_users;  // SPARK_TRUSTED_USERS; empty = nobody, "*" = all
  std::string contact_info;              // ZPARK_CONTACT_INFO
  std::string webex_api_url = "https://webexapis.com/v1";  // WEBEX_API_URL
  std::string webex_ca_file;             // WEBEX_CA_FILE
  std::size_t webex_pool_size = 4;       // WEBEX_POOL_SIZE

  // Zabbix
  std::string zabbix_url = "http://localhost/zabbix";  // ZABBIX_SERVER_URL
  std::string zabbix_username;           // ZABBIX_USERNAME
  std::string zabbix_password;           // ZABBIX_PASSWORD
  std::string zabbix_api_token;          // ZABBIX_API_TOKEN
  bool zabbix_tls_verify = true;         // ZABBIX_TLS_CERT_VERIFY
  std::string zabbix_ca_file;            // ZABBIX_CA_FILE
  std::string zabbix_server_address;     // ZABBIX_SERVER_ADDRESS: trapper "host[:port]" for show status

  // Bot commands
  unsigned command_retries = 3;                    // ZPARK_COMMAND_RETRIES: Zabbix retries per command
  std::chrono::seconds command_retry_delay{15};    // ZPARK_COMMAND_RETRY_DELAY: first wait, then doubling
  std::chrono::seconds webhook_check_interval{300};  // ZPARK_WEBHOOK_CHECK_INTERVAL: self-heal; 0 = off
  bool alert_cards = true;                         // ZPARK_ALERT_CARDS: buttons on problem alerts

  // Graphs (a PNG from the Zabbix frontend in each problem alert's thread, and `graph`)
  bool graphs = true;                              // ZPARK_GRAPHS: needs ZABBIX_USERNAME/PASSWORD
  std::chrono::seconds graph_period{3600};         // ZPARK_GRAPH_PERIOD: time span of alert graphs

  // Outbox and delivery
  std::string data_dir = "zpark-data";   // ZPARK_DATA_DIR
  // ZPARK_DATABASE_URL: the outbox in PostgreSQL, shared by several instances; empty = SQLite
  // in data_dir. ZPARK_DATABASE_PASSWORD (or _FILE) when the URL has none.
  std::string database_url;
  std::string database_password;
  unsigned database_pool = 4;            // ZPARK_DATABASE_POOL: connections per instance
  bool fsync = true;                     // ZPARK_FSYNC: fsync each commit (survives power loss)
  std::chrono::seconds alert_max_age{86400};  // ZPARK_ALERT_MAX_AGE: then marked failed
  std::chrono::seconds dedup_window{600};     // ZPARK_DEDUP_WINDOW: longer than Zabbix retries last
  bool edit_on_recovery = false;         // ZPARK_EDIT_ON_RECOVERY
  bool escape_message = false;           // ZPARK_ESCAPE_MESSAGE: alert messages as plain text
  std::string admin_room;                // ZPARK_ADMIN_ROOM: failures are reported there

  std::string log_level = "info";        // ZPARK_LOG_LEVEL

  bool dry_run() const { return spark_token.empty(); }
  // Why the bot commands are off (empty when they are on).
  std::string commands_off_reason() const;
  // Problem alerts get a card with buttons: ZPARK_ALERT_CARDS and the bot commands both on
  // (a button is a command; without the webhook nobody would hear it).
  bool cards_on() const { return alert_cards && commands_off_reason().empty(); }
  // Why graphs are off (empty when on): ZPARK_GRAPHS=false, dry-run, or no frontend login
  // (an API token alone cannot open a frontend session).
  std::string graphs_off_reason() const;
};

using Environment = std::map<std::string, std::string>;

// Reads settings; throws SettingsError naming the first bad or missing setting.
Settings load_settings(const Environment& env, const std::optional<std::string>& config_file);

// The process environment as a map.
Environment process_environment();

// Name/value lines for `zpark check`, secrets shown only as "(set, N chars hidden)".
std::vector<std::pair<std::string, std::string>> describe(const Settings& s);

// The URL with its password (user:PASSWORD@ or password=) replaced by ***, for messages.
std::string redact_url_password(const std::string& url);

}  // namespace zpark::conf
