#include "app/cli.hpp"

#include "app/check.hpp"
#include "app/service.hpp"
#include "app/webex_cli.hpp"
#include "conf/settings.hpp"
#include "conf/version.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace zpark::app {

namespace {

constexpr const char* kUsage = R"(Usage: zpark [COMMAND] [--config FILE]

Relays Zabbix alerts to Webex and answers Webex bot commands.

Commands:
  serve      run the service in the foreground (the default)
  check      validate the settings (secrets hidden), prove the Webex token and Zabbix login
  webhook    create | list [--json] | delete ID|--all-mine | repair: the bot's Webex webhook
  rooms      rooms the bot is in [--json] (room ids for a Zabbix user's media)
  send       --to EMAIL|ROOMID TEXT: send one message, to test a setup
  version    print the version
  help       print this text

Options:
  --config FILE   JSON settings file (comments allowed); environment variables win
  -h, --help      print this text

Settings are environment variables such as ZPARK_API_TOKEN, SPARK_ACCESS_TOKEN,
ZPARK_LISTEN, ZPARK_DATA_DIR; see README.md. Without SPARK_ACCESS_TOKEN zpark runs
in dry-run mode and prints what it would send to Webex.
)";

struct Args {
  std::string command = "serve";
  std::vector<std::string> rest;  // words after the command (webhook verbs)
  std::optional<std::string> config;
};

// Returns nullopt (after printing why) when the arguments are wrong.
std::optional<Args> parse(int argc, char** argv) {
  Args a;
  bool have_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "zpark: --config needs a file name\n");
        return std::nullopt;
      }
      a.config = argv[++i];
    } else if (arg.starts_with("--config=")) {
      a.config = arg.substr(9);
    } else if (arg == "-h" || arg == "--help") {
      a.command = "help";
      have_command = true;
    } else if (arg == "--version") {
      a.command = "version";
      have_command = true;
    } else if (!arg.starts_with("-") && !have_command) {
      a.command = arg;
      have_command = true;
    } else if (have_command && (a.command == "webhook" || a.command == "rooms" || a.command == "send")) {
      a.rest.push_back(arg);
    } else {
      std::fprintf(stderr, "zpark: unknown argument '%s'; see zpark --help\n", arg.c_str());
      return std::nullopt;
    }
  }
  return a;
}

}  // namespace

int run_cli(int argc, char** argv) {
  auto args = parse(argc, argv);
  if (!args) return 2;
  if (args->command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args->command == "version") {
    std::printf("zpark %s\n", conf::kVersion);
    return 0;
  }
  const bool webex_verb = args->command == "webhook" || args->command == "rooms" || args->command == "send";
  if (args->command != "serve" && args->command != "check" && !webex_verb) {
    std::fprintf(stderr, "zpark: unknown command '%s'; see zpark --help\n", args->command.c_str());
    return 2;
  }
  conf::Settings settings;
  try {
    settings = conf::load_settings(conf::process_environment(), args->config);
  } catch (const conf::SettingsError& e) {
    std::fprintf(stderr, "zpark: setting %s\n", e.what());
    return 78;  // EX_CONFIG
  }
  if (args->command == "check") return run_check(settings);
  if (webex_verb) return run_webex_cli(settings, args->command, args->rest);
  try {
    return serve(settings);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zpark: %s\n", e.what());
    return 1;
  }
}

}  // namespace zpark::app
