#define BOOST_TEST_MODULE command
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "spark/command.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <ostream>
#include <random>
#include <string>
#include <vector>

using namespace zpark::spark;
namespace data = boost::unit_test::data;
namespace json = boost::json;

namespace {

// A REST id as /people/me gives it: base64url of ciscospark://us/PEOPLE/<uuid>, unpadded.
const std::string kBotId = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hYmNkZWYwMS0yMzQ1LTY3ODktYWJjZC1lZjAxMjM0NTY3ODk";
const std::string kBotUuid = "abcdef01-2345-6789-abcd-ef0123456789";
const std::string kOtherId = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8xMTExMTExMS0yMjIyLTMzMzMtNDQ0NC01NTU1NTU1NTU1NTU";

std::string mention(const std::string& id = kBotId, const std::string& shown = "Zpark") {
  return R"(<spark-mention data-object-type="person" data-object-id=")" + id + R"(">)" + shown + "</spark-mention>";
}

ChatMessage group(std::string html, std::string text = "") {
  ChatMessage m;
  m.id = "m1";
  m.room_id = "r1";
  m.room_type = "group";
  m.person_id = "p1";
  m.person_email = "ann@example.com";
  m.html = std::move(html);
  m.text = std::move(text);
  m.mentioned_people = {kBotId};
  return m;
}

ChatMessage direct(std::string text) {
  ChatMessage m;
  m.room_type = "direct";
  m.person_id = "p1";
  m.person_email = "ann@example.com";
  m.text = std::move(text);
  return m;
}

struct Case {
  std::string input;
  std::string expected;  // normalised command; empty: ignored
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << '[' << c.input << "] -> [" << c.expected << ']'; }

void check(const Extracted& e, const std::string& expected) {
  if (expected.empty()) {
    BOOST_TEST(e.text == "");
    BOOST_TEST(!e.ignored.empty());
  } else {
    BOOST_TEST(e.ignored == "");
    BOOST_TEST(e.text == expected);
  }
}

struct Parsed {
  std::string input;
  Command::Kind kind;
  int min_severity;
  std::string host, group;
  std::size_t limit;
};
std::ostream& operator<<(std::ostream& os, const Parsed& p) { return os << p.input; }

struct Bad {
  std::string input;
  Command::Kind kind;
  std::string problem_part;
};
std::ostream& operator<<(std::ostream& os, const Bad& b) { return os << b.input; }

struct Acting {
  std::string input;
  Command::Kind kind;
  std::string id, message;
};
std::ostream& operator<<(std::ostream& os, const Acting& a) { return os << a.input; }

struct Maintaining {
  std::string input;
  Command::Kind kind;
  std::string host, group;
  std::int64_t duration;
  std::string reason, id;
};
std::ostream& operator<<(std::ostream& os, const Maintaining& m) { return os << m.input; }

struct Duration {
  std::string text;
  std::int64_t seconds;  // -1: not a duration
};
std::ostream& operator<<(std::ostream& os, const Duration& d) { return os << d.text; }

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

Command parse(const std::string& original) { return parse_command(lower(original), original); }

}  // namespace

// ---- extraction: direct rooms ------------------------------------------------------------------

BOOST_DATA_TEST_CASE(direct_rooms_take_the_whole_text_normalised,
                     data::make(std::vector<Case>{
                         {"show issues", "show issues"},
                         {"Show ISSUES", "show issues"},
                         {"  show    issues  ", "show issues"},
                         {"show issues\n", "show issues"},
                         {"show issues\r\n", "show issues"},
                         {"\xC2\xA0show\xC2\xA0issues", "show issues"},
                         {"show\nissues", ""},
                         {"show issues\nplease", ""},
                         {"show\tissues", ""},
                         {"show\x01issues", ""},
                         {"show\x7fissues", ""},
                         {"show\xC2\x85issues", ""},
                         {"show \xff issues", ""},
                         {"", ""},
                         {"   \n ", ""},
                     }),
                     c) {
  check(extract_command(direct(c.input), kBotId), c.expected);
}

BOOST_AUTO_TEST_CASE(the_original_keeps_the_case_for_host_names) {
  auto e = extract_command(direct("Show  Host   DB01"), kBotId);
  BOOST_TEST(e.text == "show host db01");
  BOOST_TEST(e.original == "Show Host DB01");
}

BOOST_AUTO_TEST_CASE(at_most_200_characters_counted_as_code_points) {
  check(extract_command(direct("show host " + std::string(190, 'a')), kBotId), "show host " + std::string(190, 'a'));
  check(extract_command(direct("show host " + std::string(191, 'a')), kBotId), "");
  std::string accents;
  for (int i = 0; i < 190; ++i) accents += "\xC3\xA9";  // é: 2 bytes, 1 character
  check(extract_command(direct("show host " + accents), kBotId), "show host " + accents);
  auto e = extract_command(direct(std::string(5000, 'x')), kBotId);
  BOOST_TEST(e.ignored.find("200") != std::string::npos);
}

// The length counts what was written, not what collapsing would leave.
BOOST_AUTO_TEST_CASE(the_length_is_checked_before_spaces_are_collapsed) {
  check(extract_command(direct("show" + std::string(300, ' ') + "issues"), kBotId), "");
}

BOOST_AUTO_TEST_CASE(the_bots_own_message_is_ignored) {
  auto m = direct("help");
  m.person_id = kBotId;
  check(extract_command(m, kBotId), "");
}

// ---- extraction: group rooms ---------------------------------------------------------------------

BOOST_DATA_TEST_CASE(
    group_rooms_take_what_follows_the_bots_leading_mention,
    data::make(std::vector<Case>{
        {"<p>" + mention() + " show issues</p>", "show issues"},
        {mention() + " show issues", "show issues"},
        {"<div><p>" + mention() + " help</p></div>", "help"},
        {"<p>" + mention() + ", show status</p>", "show status"},
        {"<p>" + mention() + ": show status</p>", "show status"},
        {"<p>" + mention() + "; show status</p>", "show status"},
        {"<p>" + mention() + ",:;  show status</p>", "show status"},
        {"<p>" + mention() + "show status</p>", "show status"},
        {"<p>" + mention() + "&nbsp;show status</p>", "show status"},
        {"<p>" + mention() + "\xC2\xA0show status</p>", "show status"},
        {"<p>" + mention() + "  SHOW    Status  </p>", "show status"},
        {"<p>" + mention() + " show   issues <b>severity&gt;=high</b></p>", "show issues severity>=high"},
        {"<p>" + mention() + " show host &quot;web 01&quot;</p>", "show host \"web 01\""},
        {"<p>" + mention() + " show host a&amp;b &lt;x&gt; &#39;y&#39; &#x41;</p>", "show host a&b <x> 'y' a"},
        {"<p>" + mention() + " show host <code>db01</code></p>", "show host db01"},
        {"<p>" + mention() + " show issues<br/></p>", "show issues"},
        {"<p>" + mention() + "</p><p>show issues</p>", "show issues"},
        {"  \n<p>\n" + mention() + "\nshow\nissues\n</p>\n", "show issues"},
        {"<p>&nbsp;\xC2\xA0 " + mention() + " help</p>", "help"},
        // The display text may be a first name only, or anything: the id decides.
        {"<p>" + mention(kBotId, "Zp") + " help</p>", "help"},
        {"<p>" + mention(kBotId, "Zpark Bot") + " help</p>", "help"},
        {"<p>" + mention(kBotId, "<b>Zpark</b>") + " help</p>", "help"},
        // iOS clients put the bare uuid in data-object-id.
        {"<spark-mention data-object-id=\"" + kBotUuid + "\" data-object-type=\"person\">Zpark</spark-mention> help",
         "help"},
        {"<spark-mention data-object-id=\"" + lower(kBotUuid) + "\">Zpark</spark-mention> help", "help"},
        {"<P><SPARK-MENTION DATA-OBJECT-ID='" + kBotId + "'>Zpark</SPARK-MENTION> help</P>", "help"},
        // Ignored.
        {"<p>" + mention(kOtherId, "Bob") + " " + mention() + " help</p>", ""},
        {"<p>hey " + mention() + " help</p>", ""},
        {"<p>help</p>", ""},
        {"help", ""},
        {"<p>" + mention() + "</p>", ""},
        {"<p>" + mention() + " ,:; </p>", ""},
        {"<p>" + mention() + " show</p><p>issues</p>", ""},
        {"<p>" + mention() + " show<br>issues</p>", ""},
        {"<p>" + mention() + " show&#10;issues</p>", ""},
        {"<p>" + mention() + " show&#9;issues</p>", ""},
        {"<p>" + mention() + " " + std::string(201, 'x') + "</p>", ""},
        {"</p>" + mention() + " help", ""},
        {R"(<spark-mention data-object-type="person" data-object-id=")" + kBotId + R"(">Zpark help)", ""},
        {R"(<spark-mention data-object-type="groupMention" data-group-type="all">All</spark-mention> help)", ""},
        {"<p>" + mention("abcdef01-2345-6789-abcd-ef0123456780") + " help</p>", ""},
        {"<p>" + mention("") + " help</p>", ""},
        {"<p><spark-mention", ""},
        {"<", ""},
    }),
    c) {
  check(extract_command(group(c.input), kBotId), c.expected);
}

BOOST_AUTO_TEST_CASE(a_mention_without_an_id_counts_when_the_bot_is_in_mentioned_people) {
  check(extract_command(group("<p><spark-mention data-object-type=\"person\">Zpark</spark-mention> help</p>"), kBotId),
        "help");
  auto m = group("<p><spark-mention data-object-type=\"person\">Bob</spark-mention> help</p>");
  m.mentioned_people = {kOtherId};
  check(extract_command(m, kBotId), "");
}

BOOST_AUTO_TEST_CASE(the_group_original_keeps_case_and_decoded_entities) {
  auto e = extract_command(group("<p>" + mention() + ", Show Host &quot;Web 01&quot;</p>"), kBotId);
  BOOST_TEST(e.text == "show host \"web 01\"");
  BOOST_TEST(e.original == "Show Host \"Web 01\"");
}

BOOST_AUTO_TEST_CASE(a_missing_room_type_needs_the_mention_too) {
  auto m = group("<p>help</p>", "help");
  m.room_type = "";
  check(extract_command(m, kBotId), "");
  m.html = "<p>" + mention() + " help</p>";
  check(extract_command(m, kBotId), "help");
}

BOOST_AUTO_TEST_CASE(an_unknown_bot_id_ignores_group_messages) {
  check(extract_command(group("<p>" + mention("") + " help</p>"), ""), "");
}

BOOST_AUTO_TEST_CASE(without_html_the_text_mention_is_found_by_the_bots_name) {
  auto m = group("", "Zpark, show issues");
  check(extract_command(m, kBotId, "Zpark Bot"), "show issues");
  m.text = "Zpark Bot show status";
  check(extract_command(m, kBotId, "Zpark Bot"), "show status");
  m.text = "zpark: help";
  check(extract_command(m, kBotId, "Zpark"), "help");
  m.text = "Zparkle help";
  check(extract_command(m, kBotId, "Zpark"), "");
  m.text = "Bob help";
  check(extract_command(m, kBotId, "Zpark"), "");
  m.text = "Zpark help";
  check(extract_command(m, kBotId), "");  // no name to strip: not guessed
  m.mentioned_people = {kOtherId};
  check(extract_command(m, kBotId, "Zpark"), "");
}

BOOST_AUTO_TEST_CASE(no_message_makes_extraction_throw_or_read_outside) {
  const std::vector<std::string> pieces = {"<",  ">",  "<p>", "</p>", "<br/>", mention(), mention(kOtherId),
                                           "<spark-mention", "data-object-id=\"", kBotId, "\"", "'", "&", "&#",
                                           "&#x110000;", "&#xD800;", "&#0;", "&amp", ";", " ", ",", "\n",
                                           "\xC3", "\xA9", "\xE2\x80\x9C", "show", "issues", "host", std::string(1, '\0'),
                                           "</spark-mention>"};
  std::mt19937 rng(7);
  for (int n = 0; n < 20000; ++n) {
    std::string html;
    const int count = static_cast<int>(rng() % 12);
    for (int k = 0; k < count; ++k) html += pieces[rng() % pieces.size()];
    auto m = group(html, html);
    Extracted e;
    BOOST_CHECK_NO_THROW(e = extract_command(m, kBotId, "Zpark"));
    if (e.ignored.empty()) {
      BOOST_TEST(!e.text.empty());
      BOOST_TEST(e.text.size() == e.original.size());
      BOOST_CHECK_NO_THROW((void)parse_command(e.text, e.original));
    }
    m.room_type = "direct";
    BOOST_CHECK_NO_THROW((void)extract_command(m, kBotId));
  }
}

// Webex bounds a message, but a hostile html must not cost quadratic time either.
BOOST_AUTO_TEST_CASE(unclosed_tags_and_entities_cost_linear_time) {
  std::string html = "<p>" + mention() + " show host ";
  for (int i = 0; i < 50000; ++i) html += "<a '&";
  const auto start = std::chrono::steady_clock::now();
  auto e = extract_command(group(html), kBotId);
  BOOST_TEST(!e.ignored.empty());  // far over 200 characters
  auto m = group("");
  m.html = std::string(200000, '<');
  BOOST_TEST(!extract_command(m, kBotId).ignored.empty());
  const bool quick = std::chrono::steady_clock::now() - start < std::chrono::seconds(5);
  BOOST_TEST(quick);
}

// ---- chat message from json ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_chat_message_reads_from_the_messages_api) {
  auto v = json::parse(R"({"id":"m1","roomId":"r1","roomType":"group","personId":"p1",
      "personEmail":"ann@example.com","parentId":"m0","text":"Zpark help","html":"<p>x</p>",
      "mentionedPeople":["b1",2,"b2"],"created":"2024-01-01T00:00:00Z"})");
  auto m = chat_message_from_json(v);
  BOOST_TEST(m.id == "m1");
  BOOST_TEST(m.room_id == "r1");
  BOOST_TEST(m.room_type == "group");
  BOOST_TEST(m.person_id == "p1");
  BOOST_TEST(m.person_email == "ann@example.com");
  BOOST_TEST(m.parent_id == "m0");
  BOOST_TEST(m.text == "Zpark help");
  BOOST_TEST(m.html == "<p>x</p>");
  BOOST_TEST(m.mentioned_people == (std::vector<std::string>{"b1", "b2"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_chat_message_from_odd_json_is_empty_not_an_exception) {
  BOOST_TEST(chat_message_from_json(json::value(nullptr)).id == "");
  BOOST_TEST(chat_message_from_json(json::parse("[1]")).text == "");
  auto m = chat_message_from_json(json::parse(R"({"id":1,"text":null,"mentionedPeople":"b1"})"));
  BOOST_TEST(m.id == "");
  BOOST_TEST(m.mentioned_people.empty());
}

// ---- parsing ------------------------------------------------------------------------------------

BOOST_DATA_TEST_CASE(commands_and_filters_are_parsed,
                     data::make(std::vector<Parsed>{
                         {"hello", Command::Kind::help, 0, "", "", 10},
                         {"help", Command::Kind::help, 0, "", "", 10},
                         {"help show issues", Command::Kind::help, 0, "", "", 10},
                         {"show issues", Command::Kind::show_issues, 0, "", "", 10},
                         {"show problems", Command::Kind::show_issues, 0, "", "", 10},
                         {"show issues severity>=high", Command::Kind::show_issues, 4, "", "", 10},
                         {"show issues sev>=disaster", Command::Kind::show_issues, 5, "", "", 10},
                         {"show issues severity warning", Command::Kind::show_issues, 2, "", "", 10},
                         {"show issues severity >= average", Command::Kind::show_issues, 3, "", "", 10},
                         {"show issues severity >=info", Command::Kind::show_issues, 1, "", "", 10},
                         {"show issues severity>= information", Command::Kind::show_issues, 1, "", "", 10},
                         {"show issues sev 3", Command::Kind::show_issues, 3, "", "", 10},
                         {"show issues severity>=0", Command::Kind::show_issues, 0, "", "", 10},
                         {"show issues severity>=not classified limit 3", Command::Kind::show_issues, 0, "", "", 3},
                         {"show issues severity not classified", Command::Kind::show_issues, 0, "", "", 10},
                         {"show issues severity \"not classified\"", Command::Kind::show_issues, 0, "", "", 10},
                         {"show issues Severity>=HIGH", Command::Kind::show_issues, 4, "", "", 10},
                         {"show issues host DB01", Command::Kind::show_issues, 0, "DB01", "", 10},
                         {"show issues group \"Linux servers\"", Command::Kind::show_issues, 0, "", "Linux servers", 10},
                         {"show issues group \xE2\x80\x9CLinux servers\xE2\x80\x9D", Command::Kind::show_issues, 0, "",
                          "Linux servers", 10},
                         {"show issues limit 1", Command::Kind::show_issues, 0, "", "", 1},
                         {"show issues limit 50", Command::Kind::show_issues, 0, "", "", 50},
                         {"show issues severity>=high host db01 limit 5", Command::Kind::show_issues, 4, "db01", "", 5},
                         {"show issues limit 5 group Web host \"web 01\" sev>=2", Command::Kind::show_issues, 2,
                          "web 01", "Web", 5},
                         {"show status", Command::Kind::show_status, 0, "", "", 10},
                         {"SHOW STATUS", Command::Kind::show_status, 0, "", "", 10},
                     }),
                     p) {
  const Command c = parse(p.input);
  BOOST_TEST((c.kind == p.kind));
  BOOST_TEST(c.problem == "");
  BOOST_TEST(c.min_severity == p.min_severity);
  BOOST_TEST(c.host == p.host);
  BOOST_TEST(c.group == p.group);
  BOOST_TEST(c.limit == p.limit);
}

BOOST_DATA_TEST_CASE(bad_arguments_keep_the_kind_and_say_what_is_wrong,
                     data::make(std::vector<Bad>{
                         {"show issues limit 0", Command::Kind::show_issues, "limit must be a number from 1 to 50"},
                         {"show issues limit 51", Command::Kind::show_issues, "1 to 50"},
                         {"show issues limit -1", Command::Kind::show_issues, "1 to 50"},
                         {"show issues limit five", Command::Kind::show_issues, "1 to 50"},
                         {"show issues limit 99999999999999999999", Command::Kind::show_issues, "1 to 50"},
                         {"show issues limit", Command::Kind::show_issues, "1 to 50"},
                         {"show issues severity>=urgent", Command::Kind::show_issues, "severity must be"},
                         {"show issues severity>=6", Command::Kind::show_issues, "severity must be"},
                         {"show issues severity", Command::Kind::show_issues, "severity must be"},
                         {"show issues severity=high", Command::Kind::show_issues, "severity>=LEVEL"},
                         {"show issues severity>high", Command::Kind::show_issues, "severity>=LEVEL"},
                         {"show issues host", Command::Kind::show_issues, "write a name after host"},
                         {"show issues group \"\"", Command::Kind::show_issues, "write a name after group"},
                         {"show issues host web 01", Command::Kind::show_issues, "\"01\""},
                         {"show issues now", Command::Kind::show_issues, "I don't understand \"now\""},
                         {"show issues severe", Command::Kind::show_issues, "I don't understand \"severe\""},
                         {"show issues limit 2 limit 3", Command::Kind::show_issues, "limit is given twice"},
                         {"show issues host a host b", Command::Kind::show_issues, "host is given twice"},
                         {"show issues host \"web 01", Command::Kind::show_issues, "double quote is not closed"},
                         {"show status please", Command::Kind::show_status, "show status takes nothing"},
                         {"show host", Command::Kind::show_host, "show host db01"},
                         {"show host \"db01", Command::Kind::show_host, "double quote is not closed"},
                     }),
                     b) {
  const Command c = parse(b.input);
  BOOST_TEST((c.kind == b.kind));
  BOOST_TEST(c.problem.find(b.problem_part) != std::string::npos, c.problem);
}

BOOST_DATA_TEST_CASE(anything_else_is_unknown_without_a_problem,
                     data::make(std::vector<std::string>{"", "show", "show me", "show issue", "issues", "foo bar",
                                                         "hello?", "\"show\" issues", "show \"status\"",
                                                         "please show issues", "help!"}),
                     input) {
  const Command c = parse(input);
  BOOST_TEST((c.kind == Command::Kind::unknown));
  BOOST_TEST(c.problem == "");
}

BOOST_AUTO_TEST_CASE(no_words_make_parsing_throw) {
  const std::vector<std::string> words = {"show", "issues", "host", "group", "limit", "severity", "sev",
                                          ">=", "sev>=", "severity>=", "not", "classified", "high", "5",
                                          "0", "51", "\"", "\"a b\"", "\xE2\x80\x9C", "status", "help", "",
                                          "ack", "unack", "close", "comment", "#12", "8812", "maintenance",
                                          "list", "end", "2h", "1m", "40d", "1h30m"};
  std::mt19937 rng(3);
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    const int count = static_cast<int>(rng() % 9);
    for (int k = 0; k < count; ++k) text += (k ? " " : "") + words[rng() % words.size()];
    Command c;
    BOOST_CHECK_NO_THROW(c = parse(text));
    BOOST_TEST(c.limit >= 1u);
    BOOST_TEST(c.limit <= 50u);
    BOOST_TEST(c.min_severity >= 0);
    BOOST_TEST(c.min_severity <= 5);
    if (c.kind == Command::Kind::unknown) BOOST_TEST(c.problem == "");
    if (c.kind == Command::Kind::maintenance_create && c.problem.empty()) {
      BOOST_TEST(c.duration >= kMinMaintenanceSeconds);
      BOOST_TEST(c.duration <= kMaxMaintenanceSeconds);
      BOOST_TEST((c.host.empty() != c.group.empty()));
    }
    if (c.kind == Command::Kind::comment && c.problem.empty()) BOOST_TEST(!c.message.empty());
  }
}

BOOST_AUTO_TEST_CASE(show_host_keeps_the_name_as_written) {
  BOOST_TEST(parse("show host DB01").name == "DB01");
  BOOST_TEST(parse("Show Host Web Server 01").name == "Web Server 01");
  BOOST_TEST(parse("show host \"Web Server 01\"").name == "Web Server 01");
  BOOST_TEST(parse("show host db-01.example.com").name == "db-01.example.com");
  BOOST_TEST((parse("show host DB01").kind == Command::Kind::show_host));
}

BOOST_AUTO_TEST_CASE(names_come_from_the_normalised_text_when_original_is_another_command) {
  auto c = parse_command("show host db01", "something else");
  BOOST_TEST((c.kind == Command::Kind::show_host));
  BOOST_TEST(c.name == "db01");
  c = parse_command("show issues host db01", "");
  BOOST_TEST(c.host == "db01");
}

BOOST_AUTO_TEST_CASE(extraction_and_parsing_together_keep_the_host_case) {
  auto e = extract_command(group("<p>" + mention(kBotId, "Zp") + ": Show Issues Host \"Web 01\" LIMIT 3</p>"), kBotId);
  BOOST_REQUIRE(e.ignored == "");
  const Command c = parse_command(e.text, e.original);
  BOOST_TEST((c.kind == Command::Kind::show_issues));
  BOOST_TEST(c.host == "Web 01");
  BOOST_TEST(c.limit == 3u);
}

BOOST_AUTO_TEST_CASE(kinds_have_metric_names) {
  BOOST_TEST(std::string(to_string(Command::Kind::help)) == "help");
  BOOST_TEST(std::string(to_string(Command::Kind::show_issues)) == "show issues");
  BOOST_TEST(std::string(to_string(Command::Kind::show_status)) == "show status");
  BOOST_TEST(std::string(to_string(Command::Kind::show_host)) == "show host");
  BOOST_TEST(std::string(to_string(Command::Kind::unknown)) == "unknown");
  BOOST_TEST(std::string(to_string(Command::Kind::ack)) == "ack");
  BOOST_TEST(std::string(to_string(Command::Kind::unack)) == "unack");
  BOOST_TEST(std::string(to_string(Command::Kind::close)) == "close");
  BOOST_TEST(std::string(to_string(Command::Kind::comment)) == "comment");
  BOOST_TEST(std::string(to_string(Command::Kind::maintenance_create)) == "maintenance create");
  BOOST_TEST(std::string(to_string(Command::Kind::maintenance_list)) == "maintenance list");
  BOOST_TEST(std::string(to_string(Command::Kind::maintenance_end)) == "maintenance end");
  for (auto k : {Command::Kind::ack, Command::Kind::unack, Command::Kind::close, Command::Kind::comment})
    BOOST_TEST(is_event_command(k));
  for (auto k : {Command::Kind::help, Command::Kind::show_issues, Command::Kind::maintenance_create,
                 Command::Kind::maintenance_end, Command::Kind::unknown})
    BOOST_TEST(!is_event_command(k));
}

// ---- acting on Zabbix: ack / unack / close / comment ----------------------------------------------

BOOST_DATA_TEST_CASE(event_commands_take_an_optional_id_and_the_rest_as_written,
                     data::make(std::vector<Acting>{
                         {"ack 8812", Command::Kind::ack, "8812", ""},
                         {"ACK 8812 Looking into it", Command::Kind::ack, "8812", "Looking into it"},
                         {"acknowledge #8812 on it", Command::Kind::ack, "8812", "on it"},
                         {"ack", Command::Kind::ack, "", ""},
                         {"ack Looking into it", Command::Kind::ack, "", "Looking into it"},
                         {"ack 8812 it's \"fine", Command::Kind::ack, "8812", "it's \"fine"},
                         {"ack 8812 \"quoted\" words", Command::Kind::ack, "8812", "\"quoted\" words"},
                         {"ack \"8812\" x", Command::Kind::ack, "", "\"8812\" x"},
                         {"ack 123456789012345678901", Command::Kind::ack, "", "123456789012345678901"},
                         {"ack 8812x", Command::Kind::ack, "", "8812x"},
                         {"unack 8812", Command::Kind::unack, "8812", ""},
                         {"Unacknowledge 8812 Wrong one", Command::Kind::unack, "8812", "Wrong one"},
                         {"unack", Command::Kind::unack, "", ""},
                         {"close 8812 fixed by a reboot", Command::Kind::close, "8812", "fixed by a reboot"},
                         {"close", Command::Kind::close, "", ""},
                         {"comment 8812 Disk Replaced", Command::Kind::comment, "8812", "Disk Replaced"},
                         {"comment Disk ordered", Command::Kind::comment, "", "Disk ordered"},
                     }),
                     a) {
  const Command c = parse(a.input);
  BOOST_TEST((c.kind == a.kind));
  BOOST_TEST(c.problem == "");
  BOOST_TEST(c.id == a.id);
  BOOST_TEST(c.message == a.message);
}

BOOST_AUTO_TEST_CASE(a_comment_needs_words) {
  for (const char* input : {"comment", "comment 8812", "comment #8812"}) {
    const Command c = parse(input);
    BOOST_TEST((c.kind == Command::Kind::comment), input);
    BOOST_TEST(c.problem.find("write your comment after comment") != std::string::npos, input);
  }
}

BOOST_AUTO_TEST_CASE(an_ack_message_keeps_its_case_through_extraction) {
  auto e = extract_command(group("<p>" + mention() + " ack 8812 Disk &amp; RAID <b>OK</b></p>"), kBotId);
  BOOST_REQUIRE(e.ignored == "");
  const Command c = parse_command(e.text, e.original);
  BOOST_TEST((c.kind == Command::Kind::ack));
  BOOST_TEST(c.id == "8812");
  BOOST_TEST(c.message == "Disk & RAID OK");
}

// ---- maintenance --------------------------------------------------------------------------------

BOOST_DATA_TEST_CASE(durations_read_minutes_hours_days_weeks,
                     data::make(std::vector<Duration>{
                         {"30m", 1800}, {"5min", 300}, {"2h", 7200}, {"2H", 7200}, {"1d", 86400},
                         {"1w", 604800}, {"1h30m", 5400}, {"90min", 5400}, {"1d12h", 129600}, {"0m", 0},
                         {"", -1}, {"2", -1}, {"h", -1}, {"2x", -1}, {"45s", -1}, {"-2h", -1}, {"2 h", -1},
                         {"1h30", -1}, {"9999999h", -1}, {"2hours", -1}, {"1.5h", -1}}),
                     d) {
  const auto got = parse_duration(d.text);
  if (d.seconds < 0) {
    BOOST_TEST(!got.has_value());
  } else {
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(*got == d.seconds);
  }
}

BOOST_DATA_TEST_CASE(maintenance_commands_are_parsed,
                     data::make(std::vector<Maintaining>{
                         {"maintenance host db01 2h disk swap", Command::Kind::maintenance_create, "db01", "", 7200,
                          "disk swap", ""},
                         {"Maintenance Host DB01 30m", Command::Kind::maintenance_create, "DB01", "", 1800, "", ""},
                         {"maintenance host Zrt Alpha 1 1h30m Kernel \"update\"", Command::Kind::maintenance_create,
                          "Zrt Alpha 1", "", 5400, "Kernel \"update\"", ""},
                         {"maintenance host \"web 2h\" 1d", Command::Kind::maintenance_create, "web 2h", "", 86400,
                          "", ""},
                         {"maintenance host db01 5m", Command::Kind::maintenance_create, "db01", "", 300, "", ""},
                         {"maintenance host db01 30d month end", Command::Kind::maintenance_create, "db01", "",
                          2592000, "month end", ""},
                         {"maintenance group \"Linux servers\" 1w patching", Command::Kind::maintenance_create, "",
                          "Linux servers", 604800, "patching", ""},
                         {"maintenance group Linux servers 5m", Command::Kind::maintenance_create, "", "Linux servers",
                          300, "", ""},
                         {"maintenance list", Command::Kind::maintenance_list, "", "", 0, "", ""},
                         {"MAINTENANCE LIST", Command::Kind::maintenance_list, "", "", 0, "", ""},
                         {"maintenance end 17", Command::Kind::maintenance_end, "", "", 0, "", "17"},
                         {"maintenance end #17", Command::Kind::maintenance_end, "", "", 0, "", "17"},
                     }),
                     m) {
  const Command c = parse(m.input);
  BOOST_TEST((c.kind == m.kind));
  BOOST_TEST(c.problem == "");
  BOOST_TEST(c.host == m.host);
  BOOST_TEST(c.group == m.group);
  BOOST_TEST(c.duration == m.duration);
  BOOST_TEST(c.message == m.reason);
  BOOST_TEST(c.id == m.id);
}

BOOST_DATA_TEST_CASE(bad_maintenance_arguments_say_what_to_write,
                     data::make(std::vector<Bad>{
                         {"maintenance", Command::Kind::maintenance_create, "maintenance list or maintenance end ID"},
                         {"maintenance now", Command::Kind::maintenance_create, "maintenance host NAME DURATION"},
                         {"maintenance host", Command::Kind::maintenance_create, "write the host's name and how long"},
                         {"maintenance host 2h", Command::Kind::maintenance_create, "write the host's name and how long"},
                         {"maintenance group", Command::Kind::maintenance_create, "write the group's name"},
                         {"maintenance host db01", Command::Kind::maintenance_create, "write how long after the host's name"},
                         {"maintenance host db01 soon", Command::Kind::maintenance_create, "write how long"},
                         {"maintenance host db01 4m", Command::Kind::maintenance_create, "from 5m to 30d"},
                         {"maintenance host db01 31d", Command::Kind::maintenance_create, "from 5m to 30d"},
                         {"maintenance host db01 0m", Command::Kind::maintenance_create, "from 5m to 30d"},
                         {"maintenance host \"db01\" soon", Command::Kind::maintenance_create, "in double quotes"},
                         {"maintenance host \"db01 2h", Command::Kind::maintenance_create, "double quote is not closed"},
                         {"maintenance list all", Command::Kind::maintenance_list, "maintenance list takes nothing"},
                         {"maintenance end", Command::Kind::maintenance_end, "maintenance end 17"},
                         {"maintenance end abc", Command::Kind::maintenance_end, "maintenance end 17"},
                         {"maintenance end 1 2", Command::Kind::maintenance_end, "maintenance end 17"},
                     }),
                     b) {
  const Command c = parse(b.input);
  BOOST_TEST((c.kind == b.kind));
  BOOST_TEST(c.problem.find(b.problem_part) != std::string::npos, c.problem);
}
