#define BOOST_TEST_MODULE settings
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "conf/listen.hpp"
#include "conf/log.hpp"
#include "conf/settings.hpp"
#include "test/support/process.hpp"

#include <fstream>

using namespace zpark::conf;
namespace data = boost::unit_test::data;

namespace {
Environment base() { return {{"ZPARK_API_TOKEN", "t0ken"}}; }

std::string error_setting(const Environment& env, const std::optional<std::string>& file = std::nullopt) {
  try {
    load_settings(env, file);
  } catch (const SettingsError& e) {
    return e.setting;
  }
  return "(no error)";
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
}  // namespace

BOOST_AUTO_TEST_CASE(defaults_with_only_the_api_token) {
  auto s = load_settings(base(), std::nullopt);
  BOOST_TEST(s.api_token == "t0ken");
  BOOST_TEST(s.dry_run());
  BOOST_TEST(s.listen.size() == 1u);
  BOOST_TEST(s.listen[0].to_string() == "127.0.0.1:8080");
  BOOST_TEST(s.webex_api_url == "https://webexapis.com/v1");
  BOOST_TEST(s.zabbix_url == "http://localhost/zabbix");
  BOOST_TEST(s.zabbix_tls_verify);
  BOOST_TEST(s.trusted_users.empty());
  BOOST_TEST(s.path_prefix.empty());
}

BOOST_AUTO_TEST_CASE(missing_api_token_names_the_setting) {
  BOOST_TEST(error_setting({}) == "ZPARK_API_TOKEN");
  try {
    load_settings({}, std::nullopt);
  } catch (const SettingsError& e) {
    BOOST_TEST(std::string(e.what()).find("ZPARK_API_TOKEN") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(bad_values_name_their_setting) {
  auto with = [](const char* k, const char* v) {
    auto e = base();
    e[k] = v;
    return error_setting(e);
  };
  BOOST_TEST(with("ZPARK_LISTEN", "nonsense") == "ZPARK_LISTEN");
  BOOST_TEST(with("ZPARK_LISTEN", "::1:80") == "ZPARK_LISTEN");
  BOOST_TEST(with("ZPARK_LISTEN", "127.0.0.1:70000") == "ZPARK_LISTEN");
  BOOST_TEST(with("ZABBIX_TLS_CERT_VERIFY", "maybe") == "ZABBIX_TLS_CERT_VERIFY");
  BOOST_TEST(with("ZPARK_MAX_CONNECTIONS", "0") == "ZPARK_MAX_CONNECTIONS");
  BOOST_TEST(with("ZPARK_READ_TIMEOUT", "ten") == "ZPARK_READ_TIMEOUT");
  BOOST_TEST(with("WEBEX_API_URL", "ftp://x") == "WEBEX_API_URL");
  BOOST_TEST(with("ZABBIX_SERVER_URL", "localhost/zabbix") == "ZABBIX_SERVER_URL");
  BOOST_TEST(with("ZPARK_LOG_LEVEL", "loud") == "ZPARK_LOG_LEVEL");
  BOOST_TEST(with("ZPARK_TLS_CERT", "/x.pem") == "ZPARK_TLS_KEY");
  BOOST_TEST(with("ZPARK_SOCKET_MODE", "999") == "ZPARK_SOCKET_MODE");
}

BOOST_AUTO_TEST_CASE(error_text_never_contains_a_secret) {
  auto e = base();
  e["SPARK_ACCESS_TOKEN_FILE"] = "/nonexistent/secret";
  e["ZPARK_API_TOKEN"] = "supersecretvalue";
  e["ZPARK_LISTEN"] = "bad";
  try {
    load_settings(e, std::nullopt);
    BOOST_FAIL("expected an error");
  } catch (const SettingsError& x) {
    BOOST_TEST(std::string(x.what()).find("supersecretvalue") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(listen_forms) {
  auto e = base();
  e["ZPARK_LISTEN"] = "127.0.0.1:0, [::1]:8443,:9000,unix:/run/zpark.sock";
  auto s = load_settings(e, std::nullopt);
  BOOST_REQUIRE(s.listen.size() == 4u);
  BOOST_TEST(s.listen[1].host == "::1");
  BOOST_TEST(s.listen[1].port == 8443);
  BOOST_TEST(s.listen[2].host.empty());
  BOOST_TEST(s.listen[2].port == 9000);
  BOOST_TEST((s.listen[3].kind == ListenAddress::Kind::unix_socket));
  BOOST_TEST(s.listen[3].path == "/run/zpark.sock");
}

BOOST_AUTO_TEST_CASE(prefix_comes_from_server_url) {
  auto e = base();
  e["ZPARK_SERVER_URL"] = "https://bot.example.com/zpark/";
  BOOST_TEST(load_settings(e, std::nullopt).path_prefix == "/zpark");
  e["ZPARK_SERVER_URL"] = "https://bot.example.com";
  BOOST_TEST(load_settings(e, std::nullopt).path_prefix == "");
}

BOOST_AUTO_TEST_CASE(trusted_users_list) {
  auto e = base();
  e["SPARK_TRUSTED_USERS"] = "joe@example.com, @example.org";
  auto s = load_settings(e, std::nullopt);
  BOOST_REQUIRE(s.trusted_users.size() == 2u);
  BOOST_TEST(s.trusted_users[1] == "@example.org");
}

BOOST_AUTO_TEST_CASE(trusted_users_in_the_original_python_list_form) {
  auto e = base();
  e["SPARK_TRUSTED_USERS"] = "['joe@example.com', \"@example.org\"]";
  auto s = load_settings(e, std::nullopt);
  BOOST_REQUIRE(s.trusted_users.size() == 2u);
  BOOST_TEST(s.trusted_users[0] == "joe@example.com");
  BOOST_TEST(s.trusted_users[1] == "@example.org");
}

BOOST_AUTO_TEST_CASE(command_settings_and_why_commands_are_off) {
  auto e = base();
  auto s = load_settings(e, std::nullopt);
  BOOST_TEST(s.command_retries == 3u);
  BOOST_TEST(s.commands_off_reason().find("SPARK_WEBHOOK_SECRET") != std::string::npos);
  e["SPARK_WEBHOOK_SECRET"] = "s3cret";
  BOOST_TEST(load_settings(e, std::nullopt).commands_off_reason().find("SPARK_ACCESS_TOKEN") != std::string::npos);
  e["SPARK_ACCESS_TOKEN"] = "t";
  e["ZPARK_COMMAND_RETRIES"] = "5";
  e["ZABBIX_SERVER_ADDRESS"] = "127.0.0.1:10051";
  s = load_settings(e, std::nullopt);
  BOOST_TEST(s.commands_off_reason().empty());
  BOOST_TEST(s.command_retries == 5u);
  BOOST_TEST(s.zabbix_server_address == "127.0.0.1:10051");
  e["ZABBIX_SERVER_ADDRESS"] = "http://zabbix/";
  BOOST_CHECK_THROW(load_settings(e, std::nullopt), SettingsError);
  e.erase("ZABBIX_SERVER_ADDRESS");
  e["ZPARK_COMMAND_RETRIES"] = "many";
  BOOST_CHECK_THROW(load_settings(e, std::nullopt), SettingsError);
}

BOOST_AUTO_TEST_CASE(alert_cards_are_on_with_the_commands_unless_turned_off) {
  auto e = base();
  BOOST_TEST(!load_settings(e, std::nullopt).cards_on());  // no commands: nobody would hear a button
  e["SPARK_WEBHOOK_SECRET"] = "s3cret";
  e["SPARK_ACCESS_TOKEN"] = "t";
  BOOST_TEST(load_settings(e, std::nullopt).cards_on());
  e["ZPARK_ALERT_CARDS"] = "false";
  BOOST_TEST(!load_settings(e, std::nullopt).cards_on());
  e["ZPARK_ALERT_CARDS"] = "maybe";
  BOOST_TEST(error_setting(e) == "ZPARK_ALERT_CARDS");
}

BOOST_AUTO_TEST_CASE(escape_message_is_off_by_default) {
  auto s = load_settings(base(), std::nullopt);
  BOOST_TEST(!s.escape_message);
  bool listed = false;
  for (auto& [name, value] : describe(s))
    if (name == "ZPARK_ESCAPE_MESSAGE") listed = value == "false";
  BOOST_TEST(listed);
}

BOOST_DATA_TEST_CASE(escape_message_takes_the_usual_boolean_spellings,
                     data::make(std::vector<std::string>{"true", "TRUE", "1", "yes", "On", "false", "False", "0", "no",
                                                         "OFF"}) ^
                         data::make(std::vector<bool>{true, true, true, true, true, false, false, false, false, false}),
                     text, expected) {
  auto e = base();
  e["ZPARK_ESCAPE_MESSAGE"] = text;
  BOOST_TEST(load_settings(e, std::nullopt).escape_message == expected);
}

BOOST_DATA_TEST_CASE(escape_message_refuses_anything_else_naming_the_setting,
                     data::make(std::vector<std::string>{"maybe", "2", "", " true", "escape"}), text) {
  auto e = base();
  e["ZPARK_ESCAPE_MESSAGE"] = text;
  BOOST_TEST(error_setting(e) == "ZPARK_ESCAPE_MESSAGE");
  try {
    load_settings(e, std::nullopt);
  } catch (const SettingsError& x) {
    const std::string what = x.what();
    BOOST_TEST(what == "ZPARK_ESCAPE_MESSAGE: '" + text + "' is not a boolean; use true or false");
  }
}

BOOST_AUTO_TEST_CASE(escape_message_from_the_config_file_and_the_environment_wins) {
  zpark::test::TempDir dir;
  auto file = dir.path() + "/zpark.json";
  write(file, R"({"ZPARK_API_TOKEN": "t", "ZPARK_ESCAPE_MESSAGE": true})");
  BOOST_TEST(load_settings({}, file).escape_message);
  BOOST_TEST(!load_settings({{"ZPARK_ESCAPE_MESSAGE", "false"}}, file).escape_message);
  write(file, R"({"ZPARK_API_TOKEN": "t", "ZPARK_ESCAPE_MESSAGE": "sometimes"})");
  BOOST_TEST(error_setting({}, file) == "ZPARK_ESCAPE_MESSAGE");
}

BOOST_AUTO_TEST_CASE(config_file_with_comments_and_environment_wins) {
  zpark::test::TempDir dir;
  auto file = dir.path() + "/zpark.json";
  write(file, R"({
    // comments are allowed
    "ZPARK_API_TOKEN": "from-file",
    "ZPARK_LISTEN": "127.0.0.1:9999",
    "SPARK_TRUSTED_USERS": ["a@example.com", "@example.net"],
    "ZABBIX_TLS_CERT_VERIFY": false,
    "WEBEX_POOL_SIZE": 8,
  })");
  auto s = load_settings({}, file);
  BOOST_TEST(s.api_token == "from-file");
  BOOST_TEST(s.listen[0].port == 9999);
  BOOST_TEST(s.trusted_users.size() == 2u);
  BOOST_TEST(!s.zabbix_tls_verify);
  BOOST_TEST(s.webex_pool_size == 8u);
  auto s2 = load_settings({{"ZPARK_LISTEN", "127.0.0.1:1234"}}, file);
  BOOST_TEST(s2.listen[0].port == 1234);
}

BOOST_AUTO_TEST_CASE(bad_config_file_is_named) {
  zpark::test::TempDir dir;
  auto file = dir.path() + "/bad.json";
  write(file, "{ not json");
  BOOST_TEST(error_setting(base(), file) == "--config");
  BOOST_TEST(error_setting(base(), dir.path() + "/missing.json") == "--config");
}

BOOST_AUTO_TEST_CASE(secrets_from_files) {
  zpark::test::TempDir dir;
  write(dir.path() + "/token", "file-token\n");
  write(dir.path() + "/spark", "spark-token");
  Environment e{{"ZPARK_API_TOKEN_FILE", dir.path() + "/token"}, {"SPARK_ACCESS_TOKEN_FILE", dir.path() + "/spark"}};
  auto s = load_settings(e, std::nullopt);
  BOOST_TEST(s.api_token == "file-token");
  BOOST_TEST(s.spark_token == "spark-token");
  BOOST_TEST(!s.dry_run());
  e["ZPARK_API_TOKEN_FILE"] = dir.path() + "/nope";
  BOOST_TEST(error_setting(e) == "ZPARK_API_TOKEN_FILE");
}

BOOST_AUTO_TEST_CASE(describe_hides_secrets) {
  auto e = base();
  e["SPARK_ACCESS_TOKEN"] = "sparksecret";
  e["ZABBIX_PASSWORD"] = "zbxsecret";
  auto s = load_settings(e, std::nullopt);
  bool saw_token = false;
  for (auto& [name, value] : describe(s)) {
    BOOST_TEST(value.find("sparksecret") == std::string::npos);
    BOOST_TEST(value.find("zbxsecret") == std::string::npos);
    BOOST_TEST(value.find("t0ken") == std::string::npos);
    if (name == "SPARK_ACCESS_TOKEN") saw_token = value.find("hidden") != std::string::npos;
  }
  BOOST_TEST(saw_token);
}

BOOST_AUTO_TEST_CASE(log_lines_are_logfmt_and_escaped) {
  auto line = zpark::log::format_line(zpark::log::Level::warn, "two words", {{"path", "/a b"}, {"n", 3}});
  BOOST_TEST(line.find("level=warn msg=\"two words\" path=\"/a b\" n=3\n") != std::string::npos);
  auto nl = zpark::log::format_line(zpark::log::Level::info, "x", {{"v", "a\nb"}});
  BOOST_TEST(nl.find("v=\"a\\nb\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(graphs_need_a_password_login_and_can_be_turned_off) {
  auto e = base();
  e["SPARK_ACCESS_TOKEN"] = "webex";
  e["ZABBIX_USERNAME"] = "Admin";
  e["ZABBIX_PASSWORD"] = "zabbix";
  auto s = load_settings(e, std::nullopt);
  BOOST_TEST(s.graphs);
  BOOST_TEST(s.graph_period.count() == 3600);
  BOOST_TEST(s.graphs_off_reason() == "");
  e["ZPARK_GRAPH_PERIOD"] = "21600";
  BOOST_TEST(load_settings(e, std::nullopt).graph_period.count() == 21600);
  e["ZPARK_GRAPH_PERIOD"] = "10";
  BOOST_CHECK_THROW(load_settings(e, std::nullopt), SettingsError);
  e.erase("ZPARK_GRAPH_PERIOD");
  e["ZPARK_GRAPHS"] = "false";
  BOOST_TEST(load_settings(e, std::nullopt).graphs_off_reason() == "ZPARK_GRAPHS=false");
  e.erase("ZPARK_GRAPHS");
  e.erase("ZABBIX_USERNAME");
  e.erase("ZABBIX_PASSWORD");
  e["ZABBIX_API_TOKEN"] = "tok";
  BOOST_TEST(load_settings(e, std::nullopt).graphs_off_reason().find("ZABBIX_API_TOKEN cannot open a Zabbix frontend "
                                                                     "session") == 0u);
  e.erase("SPARK_ACCESS_TOKEN");
  BOOST_TEST(load_settings(e, std::nullopt).graphs_off_reason().find("dry-run") != std::string::npos);
}

// ---- the PostgreSQL outbox (issue 15) -------------------------------------------------------

BOOST_AUTO_TEST_CASE(database_url_is_unset_by_default_sqlite_then) {
  auto s = load_settings(base(), std::nullopt);
  BOOST_TEST(s.database_url.empty());
  BOOST_TEST(s.database_password.empty());
  BOOST_TEST(s.database_pool == 4u);
  for (auto& [name, value] : describe(s))
    if (name == "ZPARK_DATABASE_URL") BOOST_TEST(value.find("SQLite") != std::string::npos, value);
}

BOOST_DATA_TEST_CASE(database_url_takes_both_postgresql_schemes,
                     data::make(std::vector<std::string>{
                         "postgresql://zpark@db.example.com:5432/zpark?sslmode=verify-full",
                         "postgres://zpark@db.example.com/zpark",
                         "postgresql://127.0.0.1:5432/zpark",
                         "postgresql:///zpark?host=/run/postgresql",
                         "postgresql://zpark@db1:5432,db2:5432/zpark?target_session_attrs=read-write"}),
                     url) {
  auto e = base();
  e["ZPARK_DATABASE_URL"] = url;
  BOOST_TEST(load_settings(e, std::nullopt).database_url == url);
}

BOOST_AUTO_TEST_CASE(database_url_from_the_config_file_and_the_environment_wins) {
  zpark::test::TempDir dir;
  auto file = dir.path() + "/zpark.json";
  write(file, R"({"ZPARK_API_TOKEN": "t", "ZPARK_DATABASE_URL": "postgresql://zpark@file-db/zpark"})");
  BOOST_TEST(load_settings({}, file).database_url == "postgresql://zpark@file-db/zpark");
  BOOST_TEST(load_settings({{"ZPARK_DATABASE_URL", "postgres://zpark@env-db/zpark"}}, file).database_url ==
             "postgres://zpark@env-db/zpark");
}

// Anything else is refused naming the setting, and the message never shows the password that
// was in it (the mistake is often a URL copied from another program's settings).
BOOST_DATA_TEST_CASE(database_url_refuses_other_schemes_without_showing_the_password,
                     data::make(std::vector<std::string>{
                         "mysql://zpark:hunter2@db.example.com/zpark",
                         "jdbc:postgresql://zpark:hunter2@db.example.com:5432/zpark",
                         "https://zpark:hunter2@db.example.com/zpark",
                         "postgresql:zpark:hunter2@db.example.com/zpark",
                         "zpark:hunter2@db.example.com:5432/zpark",
                         "host=db.example.com user=zpark password=hunter2 dbname=zpark",
                         "Postgresql://zpark:hunter2@db.example.com/zpark",
                         " postgresql://zpark:hunter2@db.example.com/zpark"}),
                     url) {
  auto e = base();
  e["ZPARK_DATABASE_URL"] = url;
  BOOST_TEST(error_setting(e) == "ZPARK_DATABASE_URL");
  try {
    load_settings(e, std::nullopt);
    BOOST_FAIL("expected an error");
  } catch (const SettingsError& x) {
    const std::string what = x.what();
    BOOST_TEST(what.starts_with("ZPARK_DATABASE_URL: "), what);
    BOOST_TEST(what.find("hunter2") == std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(redact_url_password_hides_the_password_in_the_user_part) {
  BOOST_TEST(redact_url_password("postgresql://zpark:SECRET@db.example.com:5432/zpark") ==
             "postgresql://zpark:***@db.example.com:5432/zpark");
  BOOST_TEST(redact_url_password("postgres://zpark:SECRET@db/zpark?sslmode=require") ==
             "postgres://zpark:***@db/zpark?sslmode=require");
  BOOST_TEST(redact_url_password("postgresql://zpark:SE:CR:ET@db/zpark") == "postgresql://zpark:***@db/zpark");
  BOOST_TEST(redact_url_password("postgresql://zpark:S%40CRET@db1:5432,db2:5433/zpark") ==
             "postgresql://zpark:***@db1:5432,db2:5433/zpark");
  BOOST_TEST(redact_url_password("postgresql://zpark:@db/zpark").find("@db/zpark") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(redact_url_password_hides_password_parameters) {
  BOOST_TEST(redact_url_password("postgresql://zpark@db/zpark?password=SECRET") ==
             "postgresql://zpark@db/zpark?password=***");
  BOOST_TEST(redact_url_password("postgresql://zpark@db/zpark?sslmode=require&password=SECRET&application_name=zpark") ==
             "postgresql://zpark@db/zpark?sslmode=require&password=***&application_name=zpark");
  BOOST_TEST(redact_url_password("postgresql://zpark:SECRET1@db/zpark?password=SECRET2&connect_timeout=5") ==
             "postgresql://zpark:***@db/zpark?password=***&connect_timeout=5");
  BOOST_TEST(redact_url_password("postgresql://db/zpark?password=SECRET1&password=SECRET2") ==
             "postgresql://db/zpark?password=***&password=***");
  for (auto url : {"postgresql://zpark:SECRET@db/zpark?password=SECRET&sslmode=require&password=SECRET",
                   "postgresql://db/zpark?user=zpark&password=SECRET"})
    BOOST_TEST(redact_url_password(url).find("SECRET") == std::string::npos, redact_url_password(url));
}

BOOST_AUTO_TEST_CASE(redact_url_password_keeps_a_url_without_password) {
  for (std::string url : {"postgresql://zpark@db.example.com:5432/zpark?sslmode=verify-full",
                          "postgresql://db.example.com:5432/zpark", "postgres:///zpark?host=/run/postgresql",
                          "postgresql://zpark@db1:5432,db2:5432/zpark", ""})
    BOOST_TEST(redact_url_password(url) == url);
}

BOOST_AUTO_TEST_CASE(database_password_from_a_file_like_other_secrets) {
  zpark::test::TempDir dir;
  write(dir.path() + "/dbpass", "db-s3cret\n");
  auto e = base();
  e["ZPARK_DATABASE_URL"] = "postgresql://zpark@db/zpark";
  e["ZPARK_DATABASE_PASSWORD_FILE"] = dir.path() + "/dbpass";
  BOOST_TEST(load_settings(e, std::nullopt).database_password == "db-s3cret");  // final newline dropped
  e["ZPARK_DATABASE_PASSWORD"] = "from-env";  // the variable itself wins over its _FILE
  BOOST_TEST(load_settings(e, std::nullopt).database_password == "from-env");
  e.erase("ZPARK_DATABASE_PASSWORD");
  e["ZPARK_DATABASE_PASSWORD_FILE"] = dir.path() + "/nope";
  BOOST_TEST(error_setting(e) == "ZPARK_DATABASE_PASSWORD_FILE");
  // _FILE in the config file too.
  auto file = dir.path() + "/zpark.json";
  write(file, R"({"ZPARK_API_TOKEN": "t", "ZPARK_DATABASE_PASSWORD_FILE": ")" + dir.path() + R"(/dbpass"})");
  BOOST_TEST(load_settings({}, file).database_password == "db-s3cret");
}

BOOST_AUTO_TEST_CASE(describe_never_shows_the_database_password) {
  zpark::test::TempDir dir;
  write(dir.path() + "/dbpass", "db-s3cret\n");
  auto e = base();
  e["ZPARK_DATABASE_URL"] = "postgresql://zpark:url-s3cret@db:5432/zpark?sslmode=require&password=param-s3cret";
  e["ZPARK_DATABASE_PASSWORD_FILE"] = dir.path() + "/dbpass";
  auto s = load_settings(e, std::nullopt);
  std::map<std::string, std::string> shown;
  for (auto& [name, value] : describe(s)) {
    BOOST_TEST(value.find("s3cret") == std::string::npos, name << " shows " << value);
    shown[name] = value;
  }
  BOOST_TEST(shown["ZPARK_DATABASE_PASSWORD"] == "(set, 9 chars hidden)");
  BOOST_TEST(shown["ZPARK_DATABASE_URL"] == "postgresql://zpark:***@db:5432/zpark?sslmode=require&password=***");
  BOOST_TEST(shown["ZPARK_DATABASE_POOL"] == "4");
  BOOST_TEST(shown.count("ZPARK_DATABASE_PASSWORD_FILE") == 0u);
}

BOOST_DATA_TEST_CASE(database_pool_takes_1_to_32,
                     data::make(std::vector<std::string>{"1", "2", "16", "32"}) ^
                         data::make(std::vector<unsigned>{1, 2, 16, 32}),
                     text, expected) {
  auto e = base();
  e["ZPARK_DATABASE_POOL"] = text;
  BOOST_TEST(load_settings(e, std::nullopt).database_pool == expected);
}

BOOST_DATA_TEST_CASE(database_pool_refuses_anything_else_naming_the_setting,
                     data::make(std::vector<std::string>{"0", "33", "1000", "-1", "", "four", "4 ", "2.5"}), text) {
  auto e = base();
  e["ZPARK_DATABASE_POOL"] = text;
  BOOST_TEST(error_setting(e) == "ZPARK_DATABASE_POOL");
}
