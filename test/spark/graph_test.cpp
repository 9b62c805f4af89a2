// Graphs, Webex side: the `graph` command, multipart bodies of file uploads, file names, and the
// chat lines about graphs. Pure functions, no I/O.
#define BOOST_TEST_MODULE graph_test
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "spark/command.hpp"
#include "spark/multipart.hpp"
#include "spark/replies.hpp"

#include <algorithm>
#include <cctype>

using namespace zpark::spark;
namespace data = boost::unit_test::data;

namespace graph_test {

Command parse(const std::string& original) {
  std::string lower = original;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return parse_command(lower, original);
}

struct Graphing {
  std::string input, host, item;
  std::int64_t period;
};
std::ostream& operator<<(std::ostream& os, const Graphing& g) { return os << g.input; }

struct Bad {
  std::string input, problem_part;
};
std::ostream& operator<<(std::ostream& os, const Bad& b) { return os << b.input; }

}  // namespace graph_test

using namespace graph_test;

BOOST_DATA_TEST_CASE(graph_commands_are_parsed,
                     data::make(std::vector<Graphing>{
                         {"graph db01 system.cpu.load 6h", "db01", "system.cpu.load", 21600},
                         {"graph DB01 system.cpu.load[all,avg1]", "DB01", "system.cpu.load[all,avg1]", 0},
                         {"Graph db01 CPU load 1d", "db01", "CPU load", 86400},
                         {"graph \"web server 1\" \"CPU utilization\" 30m", "web server 1", "CPU utilization", 1800},
                         {"graph db01 6h", "db01", "6h", 0},  // one word after the host is the item
                         {"graph db01 \"1h\" 2h", "db01", "1h", 7200},
                         {"graph db01 vfs.fs.size[/,pused] 1w", "db01", "vfs.fs.size[/,pused]", 604800},
                     }),
                     g) {
  const Command c = parse(g.input);
  BOOST_TEST((c.kind == Command::Kind::graph));
  BOOST_TEST(c.problem == "");
  BOOST_TEST(c.host == g.host);
  BOOST_TEST(c.name == g.item);
  BOOST_TEST(c.duration == g.period);
  BOOST_TEST(std::string(to_string(c.kind)) == "graph");
  BOOST_TEST(!is_event_command(c.kind));
}

BOOST_DATA_TEST_CASE(bad_graph_arguments_say_what_to_write,
                     data::make(std::vector<Bad>{
                         {"graph", "for example graph db01 system.cpu.load 6h"},
                         {"graph db01", "write the host and the item"},
                         {"graph db01 cpu 30s", ""},  // not a duration: part of the item name
                         {"graph db01 cpu 0m", "from 1m to 730d"},
                         {"graph db01 cpu 800d", "from 1m to 730d"},
                         {"graph \"db01 cpu 1h", "double quote is not closed"},
                     }),
                     b) {
  const Command c = parse(b.input);
  BOOST_TEST((c.kind == Command::Kind::graph));
  if (b.problem_part.empty()) BOOST_TEST(c.problem == "");
  else BOOST_TEST(c.problem.find(b.problem_part) != std::string::npos, c.problem);
}

BOOST_AUTO_TEST_CASE(multipart_body_has_fields_then_the_file_with_crlf_and_a_closing_boundary) {
  FileMessage m;
  m.to = "room-1";
  m.parent_id = "parent-1";
  m.markdown = "**db01**: CPU";
  m.file = {"db01.png", "image/png", std::string("\x89PNG\r\n\x1a\n\0data", 13)};
  const auto fields = file_message_fields(m);
  BOOST_TEST_REQUIRE(fields.size() == 3u);
  BOOST_TEST(fields[0].first == "roomId");
  BOOST_TEST(fields[1].first == "parentId");
  BOOST_TEST(fields[2].first == "markdown");
  const std::string body = multipart_body("B", fields, m.file);
  const std::string expected = std::string(
      "--B\r\nContent-Disposition: form-data; name=\"roomId\"\r\n\r\nroom-1\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"parentId\"\r\n\r\nparent-1\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"markdown\"\r\n\r\n**db01**: CPU\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"db01.png\"\r\nContent-Type: image/png\r\n\r\n") +
      m.file.bytes + "\r\n--B--\r\n";
  BOOST_TEST((body == expected));
}

BOOST_AUTO_TEST_CASE(a_person_target_and_no_thread_give_only_those_fields) {
  FileMessage m;
  m.to = "ann@example.com";
  const auto fields = file_message_fields(m);
  BOOST_TEST_REQUIRE(fields.size() == 1u);
  BOOST_TEST(fields[0].first == "toPersonEmail");
  // A quote or line break in a file name cannot break out of its header.
  const std::string body = multipart_body("B", fields, {"a\"b\r\nX: y.png", "image/png", "x"});
  BOOST_TEST(body.find("filename=\"a%22b%0D%0AX: y.png\"") != std::string::npos);
  BOOST_TEST(multipart_boundary(1, 2) == "zpark-00000000000000010000000000000002");
}

BOOST_AUTO_TEST_CASE(file_names_keep_safe_characters_only) {
  BOOST_TEST(safe_file_name("db01-system.cpu.load", ".png") == "db01-system.cpu.load.png");
  BOOST_TEST(safe_file_name("Web server 1-vfs.fs.size[/,pused]", ".png") == "Web-server-1-vfs.fs.size-pused.png");
  BOOST_TEST(safe_file_name("../../etc/passwd", ".png") == "etc-passwd.png");
  BOOST_TEST(safe_file_name("***", ".png") == "file.png");
  BOOST_TEST(safe_file_name(std::string(200, 'a'), ".png").size() <= 64u);
}

BOOST_AUTO_TEST_CASE(graph_lines_name_what_is_missing) {
  Caller c{"ann@example.com", "", false};
  zpark::zabbix::GraphLookup l;
  l.outcome = zpark::zabbix::GraphLookup::Outcome::no_host;
  BOOST_TEST(graph_lookup_reply(c, l, "db99", "cpu").find("can't find a host named **db99**") != std::string::npos);
  l.outcome = zpark::zabbix::GraphLookup::Outcome::no_item;
  l.host = "db01";
  l.other = {"system.cpu.load[all,avg1]", "vm.memory.size[available]"};
  const auto no_item = graph_lookup_reply(c, l, "DB01", "cpu.bogus");
  BOOST_TEST(no_item.find("can't find an item \"cpu.bogus\" on **db01**") != std::string::npos, no_item);
  BOOST_TEST(no_item.find("system.cpu.load\\[all,avg1\\]") != std::string::npos, no_item);
  l.outcome = zpark::zabbix::GraphLookup::Outcome::not_numeric;
  BOOST_TEST(graph_lookup_reply(c, l, "db01", "agent.version").find("not numeric") != std::string::npos);
  BOOST_TEST(graph_failed_reply(c, "Zabbix did not answer").find("could not make that graph: Zabbix did not answer") !=
             std::string::npos);
  BOOST_TEST(help_reply(c, "").find("`graph HOST ITEM [PERIOD]`") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(captions_name_the_host_once_and_the_period) {
  std::vector<zpark::zabbix::GraphItem> items{{"1", "CPU load", "system.cpu.load", "db01", 0},
                                              {"2", "Free memory", "vm.memory", "db01", 3}};
  BOOST_TEST(graph_caption(items, 3600) == "**db01**: CPU load, Free memory (last 1h)");
  items[1].host = "db02";
  BOOST_TEST(graph_caption(items, 21600) == "db01: CPU load, db02: Free memory (last 6h)");
  std::vector<zpark::zabbix::GraphItem> many(6, items[0]);
  BOOST_TEST(graph_caption(many, 600).find("and 2 more (last 10m)") != std::string::npos);
}
