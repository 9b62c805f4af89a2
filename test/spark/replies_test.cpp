#define BOOST_TEST_MODULE replies
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "spark/message_format.hpp"
#include "spark/replies.hpp"

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace zpark::spark;
using zpark::zabbix::HostDetails;
using zpark::zabbix::HostInterface;
using zpark::zabbix::HostLookup;
using zpark::zabbix::Problem;
using zpark::zabbix::ProblemFilter;
using zpark::zabbix::ProblemReport;
using zpark::zabbix::StatusReport;
namespace data = boost::unit_test::data;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;

const Caller kDirect{"ann@example.com", "Ann Smith", false};
const Caller kGroup{"ann@example.com", "Ann Smith", true};
const std::string kGreeting = "Hi <@personEmail:ann@example.com|Ann Smith>,\n\n";

// Hostile text as a Zabbix user could put in a host or trigger name.
const std::string kHostile =
    "**PWN** <@all> <@personEmail:boss@example.com|Boss> [click](https://evil.example)\n# Heading\n> quote\n- item";

Problem problem(std::string host, std::string name, int severity, std::int64_t age, std::string eventid,
                bool ack = false) {
  Problem p;
  p.eventid = std::move(eventid);
  p.triggerid = "t" + p.eventid;
  p.host = std::move(host);
  p.host_name = p.host;
  p.name = std::move(name);
  p.severity = severity;
  p.since = kNow - age;
  p.acknowledged = ack;
  return p;
}

std::size_t count(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (auto at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

// Lines of the form "- ..." (list items).
std::size_t items(const std::string& s) { return count("\n" + s, "\n- "); }

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// No mention, link, heading, quote or list item made of hostile text survives.
void check_defused(const std::string& reply, const Caller& caller) {
  const std::string body = caller.group_room ? reply.substr(reply.find('\n')) : reply;
  BOOST_TEST(body.find("<@") == std::string::npos);
  BOOST_TEST(body.find("](") == std::string::npos);
  BOOST_TEST(body.find("**PWN**") == std::string::npos);
  BOOST_TEST(body.find("\n#") == std::string::npos);
  BOOST_TEST(body.find("\n>") == std::string::npos);
  BOOST_TEST(body.find("\n- item") == std::string::npos);
}

struct Escape {
  std::string in, out;
};
std::ostream& operator<<(std::ostream& os, const Escape& e) { return os << e.in; }

struct Age {
  std::int64_t seconds;
  std::string text;
};
std::ostream& operator<<(std::ostream& os, const Age& a) { return os << a.seconds; }

}  // namespace

// ---- escaping ---------------------------------------------------------------------------------

BOOST_DATA_TEST_CASE(escape_markdown_defuses_markdown_and_mentions,
                     data::make(std::vector<Escape>{
                         {"db01", "db01"},
                         {"db-01.example.com", "db-01.example.com"},
                         {"caf\xC3\xA9 \xE2\x9C\x85", "caf\xC3\xA9 \xE2\x9C\x85"},
                         {"<@all>", "&lt;@all&gt;"},
                         {"<@personEmail:x@example.com|X>", "&lt;@personEmail:x@example.com\\|X&gt;"},
                         {"**bold** _it_", "\\*\\*bold\\*\\* \\_it\\_"},
                         {"[x](https://y)", "\\[x\\]\\(https://y\\)"},
                         {"`code` ~strike~ a|b c\\d", "\\`code\\` \\~strike\\~ a\\|b c\\\\d"},
                         {"# title", "\\# title"},
                         {"> quote", "&gt; quote"},
                         {"- item", "\\- item"},
                         {"+ item", "\\+ item"},
                         {"=== x", "\\=== x"},
                         {"12. item", "12\\. item"},
                         {"load 1.5", "load 1.5"},
                         {"a & b", "a &amp; b"},
                         {"&lt;@all&gt;", "&amp;lt;@all&amp;gt;"},
                         {"line one\nline two\r\n\ttab", "line one line two   tab"},
                         {"a\nb\n# not a heading", "a b \\# not a heading"},
                         {"  padded  ", "padded"},
                         {"\n- item", "\\- item"},
                         {"bell\x07\x1b[31m", "bell\\[31m"},
                         {"C1\xC2\x85 end", "C1 end"},
                         {"bidi\xE2\x80\xAE" "evil", "bidievil"},
                         {"bad \xff byte", "bad \xEF\xBF\xBD byte"},
                         {"cut \xE2\x9C", "cut \xEF\xBF\xBD\xEF\xBF\xBD"},
                         {"", ""},
                         {"   ", ""},
                     }),
                     e) {
  BOOST_TEST(escape_markdown(e.in) == e.out);
}

BOOST_AUTO_TEST_CASE(escaped_text_of_any_bytes_is_one_line_of_utf8_without_markup) {
  std::mt19937 rng(11);
  for (int n = 0; n < 20000; ++n) {
    std::string in(rng() % 40, '\0');
    for (auto& c : in) c = static_cast<char>(rng() % 256);
    const auto out = escape_markdown(in);
    BOOST_TEST(valid_utf8(out));
    bool clean = out.find_first_of("<>\n\r\t") == std::string::npos;
    for (unsigned char c : out)
      if (c < 0x20 || c == 0x7F) clean = false;
    BOOST_TEST(clean);
    BOOST_TEST(out.find("\xE2\x80\xAE") == std::string::npos);
  }
}

BOOST_DATA_TEST_CASE(ages_read_as_days_hours_minutes,
                     data::make(std::vector<Age>{{-5, "0s"},
                                                 {0, "0s"},
                                                 {59, "59s"},
                                                 {60, "1m"},
                                                 {300, "5m"},
                                                 {3599, "59m"},
                                                 {3600, "1h"},
                                                 {3 * 3600 + 12 * 60 + 30, "3h 12m"},
                                                 {86400, "1d"},
                                                 {2 * 86400 + 4 * 3600 + 59 * 60, "2d 4h"},
                                                 {400 * 86400, "400d"}}),
                     a) {
  BOOST_TEST(format_age(a.seconds) == a.text);
}

// ---- greeting -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(group_replies_start_with_a_mention_direct_ones_do_not) {
  const auto g = unknown_reply(kGroup, "");
  BOOST_TEST(g.starts_with(kGreeting));
  const auto d = unknown_reply(kDirect, "");
  BOOST_TEST(d.find("<@") == std::string::npos);
  BOOST_TEST(g == kGreeting + d);
}

BOOST_AUTO_TEST_CASE(without_a_name_the_mention_shows_the_emails_local_part) {
  const Caller c{"bob.jones@example.com", "", true};
  BOOST_TEST(help_reply(c, "").starts_with("Hi <@personEmail:bob.jones@example.com|bob.jones>,\n\n"));
}

BOOST_AUTO_TEST_CASE(a_hostile_display_name_cannot_break_out_of_the_mention) {
  const Caller c{"ann@example.com", "Ann> <@all> **x** [y](z) |w\n# h", true};
  const auto r = unknown_reply(c, "");
  const std::string first = r.substr(0, r.find('\n'));
  BOOST_TEST(first == "Hi <@personEmail:ann@example.com|Ann all x yz w h>,");
  BOOST_TEST(count(r, "<@") == 1u);
}

BOOST_AUTO_TEST_CASE(an_email_unfit_for_a_mention_gets_a_plain_greeting) {
  const Caller c{"evil>@example.com", "Eve", true};
  const auto r = unknown_reply(c, "");
  BOOST_TEST(r.starts_with("Hi Eve,\n\n"));
  BOOST_TEST(r.find("<@") == std::string::npos);
}

// ---- help ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(help_names_every_command_with_an_example) {
  const auto r = help_reply(kDirect, "");
  for (const char* part : {"Zpark bot", "relay Zabbix alerts", "`help`", "`hello`", "`show issues`",
                           "`show issues severity>=high host db01 limit 5`", "`show status`", "`show host NAME`",
                           "`show host db01`", "mention me", "trusted users"})
    BOOST_TEST(r.find(part) != std::string::npos, part);
  BOOST_TEST(r.find("looked after") == std::string::npos);
  BOOST_TEST(r.size() <= kMaxMessageBytes);
}

BOOST_AUTO_TEST_CASE(help_names_the_caretaker_escaped) {
  BOOST_TEST(help_reply(kDirect, "the NOC, +1 555 0100").ends_with("\n\nZpark is looked after by the NOC, +1 555 0100."));
  const auto r = help_reply(kDirect, "<@all> **ops**");
  BOOST_TEST(r.ends_with("Zpark is looked after by &lt;@all&gt; \\*\\*ops\\*\\*."));
  BOOST_TEST(help_reply(kGroup, "noc").starts_with(kGreeting));
}

BOOST_AUTO_TEST_CASE(a_huge_contact_still_fits_one_message) {
  const auto r = help_reply(kGroup, std::string(20000, 'x'));
  BOOST_TEST(r.size() <= kMaxMessageBytes);
  BOOST_TEST(r.find("looked after by xxx") != std::string::npos);
}

// ---- show issues --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_problems_says_no_active_issues) {
  BOOST_TEST(issues_reply(kDirect, {}, kNow, false) == "There are no active issues right now.");
  BOOST_TEST(issues_reply(kGroup, {}, kNow, false) == kGreeting + "There are no active issues right now.");
  BOOST_TEST(issues_reply(kDirect, {}, kNow, true) == "There are no active issues matching your filters right now.");
}

BOOST_AUTO_TEST_CASE(no_problems_with_filters_names_them) {
  ProblemFilter f;
  f.min_severity = 4;
  f.host = "db01";
  f.group = "Linux *servers*";
  BOOST_TEST(issues_reply(kDirect, {}, kNow, f) ==
             "There are no active issues matching severity High or higher, host db01 and group Linux "
             "\\*servers\\* right now.");
  f = {};
  f.host = "db01";
  BOOST_TEST(issues_reply(kDirect, {}, kNow, f) == "There are no active issues matching host db01 right now.");
  BOOST_TEST(issues_reply(kDirect, {}, kNow, ProblemFilter{}) == "There are no active issues right now.");
}

BOOST_AUTO_TEST_CASE(one_problem_reads_one_active_issue) {
  ProblemReport r{{problem("db01", "Disk full", 4, 3600, "101")}, 1};
  BOOST_TEST(issues_reply(kDirect, r, kNow, false) ==
             "There is currently **one** active issue:\n\n"
             "- db01 - Disk full - **High** - since 1h (not acknowledged) - event 101");
}

BOOST_AUTO_TEST_CASE(several_problems_list_host_first_most_recent_first) {
  ProblemReport r;
  r.problems = {problem("db01", "Disk full on /var", 4, 3 * 3600 + 12 * 60, "101"),
                problem("web01", "Nginx is down", 5, 2 * 86400 + 4 * 3600, "99", true)};
  r.problems[1].host_name = "Web server 01";
  r.total = 2;
  BOOST_TEST(issues_reply(kGroup, r, kNow, false) ==
             kGreeting +
                 "There are currently **2** active issues, most recent first:\n\n"
                 "- db01 - Disk full on /var - **High** - since 3h 12m (not acknowledged) - event 101\n"
                 "- web01 (Web server 01) - Nginx is down - **Disaster** - since 2d 4h (acknowledged) - event 99");
}

BOOST_AUTO_TEST_CASE(more_problems_than_shown_are_counted) {
  ProblemReport r;
  for (int i = 0; i < 10; ++i) r.problems.push_back(problem("h" + std::to_string(i), "p", 2, 60, std::to_string(i)));
  r.total = 37;
  const auto s = issues_reply(kDirect, r, kNow, false);
  BOOST_TEST(s.starts_with("There are currently **37** active issues, most recent first:\n\n- h0 - "));
  BOOST_TEST(items(s) == 10u);
  BOOST_TEST(s.ends_with("event 9\n\n... and 27 more (use limit or filters)"));
}

BOOST_AUTO_TEST_CASE(hostile_zabbix_text_cannot_mention_link_or_lay_out) {
  ProblemReport r;
  Problem p = problem(kHostile, kHostile, 3, 60, "<@all>");
  p.host_name = kHostile + " visible";
  r.problems = {p, p};
  r.total = 2;
  for (const auto& caller : {kDirect, kGroup}) {
    const auto s = issues_reply(caller, r, kNow, false);
    check_defused(s, caller);
    BOOST_TEST(items(s) == 2u);
    BOOST_TEST(count(s, "\n") == (caller.group_room ? 5u : 3u));
  }
}

BOOST_AUTO_TEST_CASE(five_hundred_problems_fit_one_message_with_an_honest_count) {
  ProblemReport r;
  for (int i = 0; i < 500; ++i)
    r.problems.push_back(problem("host-" + std::to_string(i) + ".example.com",
                                 "Free disk space is less than 10% on volume /var/lib/" + std::to_string(i), i % 6,
                                 i * 61, std::to_string(100000 + i)));
  r.total = 500;
  const auto s = issues_reply(kGroup, r, kNow, false);
  BOOST_TEST(s.size() <= kMaxMessageBytes);
  const std::size_t shown = items(s);
  BOOST_TEST(shown > 40u);
  BOOST_TEST(shown < 500u);
  BOOST_TEST(s.ends_with("\n\n... and " + std::to_string(500 - shown) + " more (use limit or filters)"));
  BOOST_TEST(s.find("message cut") == std::string::npos);  // fitted by lines, not cut
}

BOOST_AUTO_TEST_CASE(huge_and_broken_zabbix_text_is_clipped_and_stays_utf8) {
  ProblemReport r;
  std::string name;
  for (int i = 0; i < 20000; ++i) name += "\xC3\xA9";  // 40 000 bytes of é
  r.problems = {problem(std::string(5000, 'h'), name, 1, 60, "1"), problem("h2", "bad \xff", 1, 60, "2")};
  r.total = 2;
  const auto s = issues_reply(kDirect, r, kNow, false);
  BOOST_TEST(s.size() < 1500u);
  BOOST_TEST(valid_utf8(s));
  BOOST_TEST(count(s, "\xE2\x80\xA6") == 2u);  // … after the clipped host and name
  BOOST_TEST(items(s) == 2u);
}

BOOST_AUTO_TEST_CASE(problems_without_a_start_time_or_event_leave_those_out) {
  Problem p;
  p.host = "db01";
  p.name = "x";
  ProblemReport r{{p}, 1};
  BOOST_TEST(issues_reply(kDirect, r, kNow, false) ==
             "There is currently **one** active issue:\n\n- db01 - x - **Not classified** (not acknowledged)");
}

// ---- show status --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(status_lists_the_dashboard_figures) {
  StatusReport s;
  s.from_server = true;
  s.version = "6.0.14";
  s.hosts_enabled = s.hosts_disabled = s.templates = 13;
  s.items_enabled = s.items_disabled = s.items_not_supported = 13;
  s.triggers_enabled = s.triggers_disabled = s.triggers_problem = s.triggers_ok = 13;
  s.users = 13;
  s.users_online = 2;
  s.required_performance = 12.5;
  s.web_enabled = s.web_disabled = 13;
  BOOST_TEST(status_reply(kGroup, s) ==
             kGreeting +
                 "**Zabbix server status** (Zabbix 6.0.14)\n"
                 "\n"
                 "- Hosts (enabled / disabled / templates): 13 / 13 / 13 (39)\n"
                 "- Items (enabled / disabled / not supported): 13 / 13 / 13 (39)\n"
                 "- Triggers (enabled / disabled): 13 / 13 (26); problem / ok: 13 / 13\n"
                 "- Users: 13 (2 online)\n"
                 "- Required server performance: 12.50 new values per second\n"
                 "- Web scenarios (enabled / disabled): 13 / 13\n"
                 "\n"
                 "Figures from the Zabbix server itself, as on its dashboard.");
}

BOOST_AUTO_TEST_CASE(status_from_the_api_says_so_and_skips_unknown_figures) {
  StatusReport s;
  s.hosts_enabled = 5;
  s.templates = 200;
  s.version = "7.0 <@all>";
  const auto r = status_reply(kDirect, s);
  BOOST_TEST(r.find("5 / 0 / 200 (205)") != std::string::npos);
  BOOST_TEST(r.find(" online)") == std::string::npos);
  BOOST_TEST(r.find("Required server performance") == std::string::npos);
  BOOST_TEST(r.find("(Zabbix 7.0 &lt;@all&gt;)") != std::string::npos);
  BOOST_TEST(r.ends_with("come only from the server: set ZABBIX_SERVER_ADDRESS)."));
  s.version.clear();
  BOOST_TEST(status_reply(kDirect, s).starts_with("**Zabbix server status**\n\n"));
}

// ---- show host ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(one_host_shows_status_groups_interfaces_and_problems) {
  HostDetails h;
  h.hostid = "10084";
  h.host = "db01";
  h.name = "Database 01";
  h.monitored = true;
  h.in_maintenance = true;
  h.groups = {"Linux servers", "Databases"};
  h.interfaces = {HostInterface{"agent", "192.0.2.10", "10050", "available", true},
                  HostInterface{"SNMP", "db01.example.com", "161", "unavailable", false}};
  h.problems = {problem("db01", "Disk full", 4, 300, "7"), problem("db01", "Slow queries", 2, 7200, "5", true)};
  BOOST_TEST(host_reply(kDirect, HostLookup{h, {}}, "DB01", kNow) ==
             "**Host db01** (Database 01)\n"
             "- Status: monitored, in maintenance\n"
             "- Groups: Linux servers, Databases\n"
             "- Interfaces: agent 192.0.2.10:10050 (main, available); SNMP db01.example.com:161 (unavailable)\n"
             "\n"
             "**2** current problems, most recent first:\n\n"
             "- Disk full - **High** - since 5m (not acknowledged) - event 7\n"
             "- Slow queries - **Warning** - since 2h (acknowledged) - event 5");
}

BOOST_AUTO_TEST_CASE(a_quiet_unmonitored_host_says_so) {
  HostDetails h;
  h.host = "old01";
  h.name = "old01";
  h.monitored = false;
  const auto r = host_reply(kGroup, HostLookup{h, {}}, "old01", kNow);
  BOOST_TEST(r == kGreeting +
                      "**Host old01**\n"
                      "- Status: not monitored\n"
                      "- Groups: none\n"
                      "- Interfaces: none\n"
                      "\n"
                      "No current problems.");
}

BOOST_AUTO_TEST_CASE(no_host_found_names_what_was_asked) {
  BOOST_TEST(host_reply(kDirect, {}, "db99", kNow) ==
             "I found no host called **db99** in Zabbix (by technical or visible name).");
  const auto r = host_reply(kGroup, {}, "<@all> **x**", kNow);
  check_defused(r, kGroup);
  BOOST_TEST(r.find("**&lt;@all&gt; \\*\\*x\\*\\***") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(several_hosts_are_listed_with_a_request_to_be_precise) {
  HostLookup l;
  l.candidates = {"db01", "db02", kHostile};
  const auto r = host_reply(kDirect, l, "db", kNow);
  BOOST_TEST(r.starts_with("Several hosts match **db**:\n\n- db01\n- db02\n- "));
  BOOST_TEST(r.ends_with("\n\nPlease write show host with one of these names exactly."));
  BOOST_TEST(items(r) == 3u);
  check_defused(r, kDirect);
}

BOOST_AUTO_TEST_CASE(a_host_with_everything_in_excess_still_fits) {
  HostDetails h;
  h.host = kHostile;
  h.name = kHostile;
  for (int i = 0; i < 200; ++i) h.groups.push_back("group " + std::to_string(i) + " " + kHostile);
  for (int i = 0; i < 50; ++i) h.interfaces.push_back(HostInterface{"agent", "10.0.0." + std::to_string(i), "10050", "available", i == 0});
  for (int i = 0; i < 300; ++i) h.problems.push_back(problem(kHostile, kHostile + std::to_string(i), 3, i * 60, std::to_string(i)));
  const auto r = host_reply(kGroup, HostLookup{h, {}}, "x", kNow);
  BOOST_TEST(r.size() <= kMaxMessageBytes);
  BOOST_TEST(valid_utf8(r));
  check_defused(r, kGroup);
  BOOST_TEST(r.find("and 170 more") != std::string::npos);  // groups past 30
  BOOST_TEST(r.find("and 40 more") != std::string::npos);   // interfaces past 10
  BOOST_TEST(r.find("**300** current problems") != std::string::npos);
}

// ---- unknown and Zabbix trouble ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_commands_point_to_help) {
  BOOST_TEST(unknown_reply(kDirect, "") == "I don't know that command; write **help** to see what I can do.");
  BOOST_TEST(unknown_reply(kDirect, "limit must be a number from 1 to 50") ==
             "I can't do that: limit must be a number from 1 to 50. Write **help** to see what I can do.");
  const auto r = unknown_reply(kDirect, "I don't understand \"<@all>\"");
  check_defused(r, kDirect);
  BOOST_TEST(r.find("&lt;@all&gt;") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zabbix_trouble_says_it_will_retry_and_names_the_contact) {
  const auto r = zabbix_trouble_reply(kGroup, "the NOC");
  BOOST_TEST(r.starts_with(kGreeting));
  BOOST_TEST(r.find("trouble reaching Zabbix") != std::string::npos);
  BOOST_TEST(r.find("try again") != std::string::npos);
  BOOST_TEST(r.ends_with("\n\nZpark is looked after by the NOC."));
  BOOST_TEST(zabbix_trouble_reply(kDirect, "").find("looked after") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(zabbix_gave_up_says_so_and_names_the_contact) {
  const auto r = zabbix_gave_up_reply(kDirect, "<@all>");
  BOOST_TEST(r.find("given up") != std::string::npos);
  BOOST_TEST(r.ends_with("\n\nZpark is looked after by &lt;@all&gt;."));
  BOOST_TEST(zabbix_gave_up_reply(kDirect, "").find("looked after") == std::string::npos);
}

// ---- acting on Zabbix: ack / unack / close / comment ----------------------------------------------

namespace {

using zpark::zabbix::EventAction;
using zpark::zabbix::EventOutcome;
using zpark::zabbix::EventResult;
using zpark::zabbix::Maintenance;
using zpark::zabbix::MaintenanceOutcome;
using zpark::zabbix::MaintenanceResult;

EventResult event_result(EventAction action, EventOutcome outcome) {
  EventResult r;
  r.action = action;
  r.outcome = outcome;
  r.eventid = "8812";
  r.event.eventid = "8812";
  r.event.problem = true;
  r.event.name = "Disk full on /var";
  r.event.host = "db01";
  r.event.severity = 4;
  r.event.clock = kNow - 3600;
  return r;
}

struct Said {
  EventAction action;
  EventOutcome outcome;
  bool message_added;
  std::string text;
};
std::ostream& operator<<(std::ostream& os, const Said& s) { return os << s.text; }

}  // namespace

BOOST_DATA_TEST_CASE(
    event_replies_say_what_was_done_or_why_not,
    data::make(std::vector<Said>{
        {EventAction::acknowledge, EventOutcome::done, false, "Acknowledged **Disk full on /var** on db01 (event 8812)."},
        {EventAction::acknowledge, EventOutcome::done, true,
         "Acknowledged **Disk full on /var** on db01 (event 8812), with your message."},
        {EventAction::unacknowledge, EventOutcome::done, false,
         "Unacknowledged **Disk full on /var** on db01 (event 8812)."},
        {EventAction::close, EventOutcome::done, false,
         "Asked Zabbix to close **Disk full on /var** on db01 (event 8812); it closes the problem within a few "
         "seconds."},
        {EventAction::comment, EventOutcome::done, true, "Added your comment to **Disk full on /var** on db01 (event 8812)."},
        {EventAction::unacknowledge, EventOutcome::already_done, false,
         "**Disk full on /var** on db01 (event 8812) is not acknowledged; nothing changed."},
        {EventAction::close, EventOutcome::already_done, false,
         "Closing **Disk full on /var** on db01 (event 8812) was already asked for; Zabbix closes it within a few "
         "seconds."},
        {EventAction::acknowledge, EventOutcome::not_found, false,
         "I can't find event **8812** in Zabbix: it does not exist, or Zpark's Zabbix account is not allowed to see "
         "it."},
        {EventAction::acknowledge, EventOutcome::not_a_problem, false,
         "Event **8812** is not a problem (it may be a recovery event); please use the problem's event id, as the "
         "alert shows it."},
        {EventAction::close, EventOutcome::resolved, false,
         "**Disk full on /var** on db01 (event 8812) is already resolved, so there is nothing to close."},
        {EventAction::close, EventOutcome::no_manual_close, false,
         "**Disk full on /var** on db01 (event 8812) can't be closed by hand: its trigger does not allow it (the "
         "trigger's \"Allow manual close\" setting in Zabbix)."},
    }),
    s) {
  auto r = event_result(s.action, s.outcome);
  r.message_added = s.message_added;
  if (s.outcome == EventOutcome::not_found) r.event = {};
  BOOST_TEST(event_action_reply(kDirect, r, kNow) == s.text);
  BOOST_TEST(event_action_reply(kGroup, r, kNow) == kGreeting + s.text);
}

BOOST_AUTO_TEST_CASE(a_second_ack_names_who_acknowledged_and_when) {
  auto r = event_result(EventAction::acknowledge, EventOutcome::already_done);
  r.acknowledged_by = "Jane Doe <jane@example.com>";
  r.acknowledged_at = kNow - 300;
  BOOST_TEST(event_action_reply(kDirect, r, kNow) ==
             "**Disk full on /var** on db01 (event 8812) was already acknowledged by Jane Doe &lt;jane@example.com&gt; "
             "5m ago; nothing changed.");
  r.message_added = true;
  BOOST_TEST(event_action_reply(kDirect, r, kNow).ends_with("5m ago; I added your message to it."));
  r.acknowledged_by.clear();
  r.acknowledged_at = 0;
  BOOST_TEST(event_action_reply(kDirect, r, kNow) ==
             "**Disk full on /var** on db01 (event 8812) was already acknowledged; I added your message to it.");
}

BOOST_AUTO_TEST_CASE(a_resolved_problem_closed_by_hand_says_so) {
  auto r = event_result(EventAction::acknowledge, EventOutcome::resolved);
  r.event.resolved = true;
  r.event.updates.push_back({kNow - 60, zpark::zabbix::kActClose | zpark::zabbix::kActMessage, "Closed by x", "Admin"});
  BOOST_TEST(event_action_reply(kDirect, r, kNow) ==
             "**Disk full on /var** on db01 (event 8812) is already resolved (closed by hand), so there is nothing to "
             "acknowledge.");
}

BOOST_AUTO_TEST_CASE(refusals_name_the_permission_or_zabbixs_reason) {
  auto r = event_result(EventAction::close, EventOutcome::no_permission);
  const auto p = event_action_reply(kDirect, r, kNow);
  BOOST_TEST(p.starts_with("Zpark's Zabbix account is not allowed to close **Disk full on /var** on db01 (event 8812)."));
  BOOST_TEST(p.find("Zabbix administrator") != std::string::npos);
  r = event_result(EventAction::comment, EventOutcome::refused);
  r.detail = "Invalid parameter \"/1/message\": value is too long.";
  BOOST_TEST(event_action_reply(kDirect, r, kNow) ==
             "Zabbix refused to comment on **Disk full on /var** on db01 (event 8812): Invalid parameter "
             "\"/1/message\": value is too long..");
}

BOOST_AUTO_TEST_CASE(hostile_event_text_is_escaped) {
  auto r = event_result(EventAction::acknowledge, EventOutcome::done);
  r.event.name = kHostile;
  r.event.host = kHostile;
  check_defused(event_action_reply(kGroup, r, kNow), kGroup);
  r.outcome = EventOutcome::already_done;
  r.acknowledged_by = kHostile;
  check_defused(event_action_reply(kGroup, r, kNow), kGroup);
  r.outcome = EventOutcome::refused;
  r.detail = kHostile;
  check_defused(event_action_reply(kGroup, r, kNow), kGroup);
  r.eventid = kHostile;
  r.outcome = EventOutcome::not_found;
  check_defused(event_action_reply(kGroup, r, kNow), kGroup);
}

BOOST_AUTO_TEST_CASE(without_an_event_id_the_reply_asks_for_it) {
  BOOST_TEST(no_event_id_reply(kDirect, "ack", false) ==
             "Which problem? Please write its event id, for example `ack 8812 looking into it` (show issues lists "
             "them), or write the command as a reply in the alert's thread.");
  BOOST_TEST(no_event_id_reply(kDirect, "comment", true) ==
             "I can't tell which problem this thread is about. Please write the event id, for example `comment 8812 "
             "disk replaced`.");
  BOOST_TEST(no_event_id_reply(kGroup, "unack", true).starts_with(kGreeting));
  BOOST_TEST(no_event_id_reply(kDirect, "unack", true).find("`unack 8812`") != std::string::npos);
}

// ---- maintenance --------------------------------------------------------------------------------

namespace {

Maintenance maintenance(std::string id, std::string name, std::int64_t since, std::int64_t till,
                        std::vector<std::string> hosts, std::vector<std::string> groups = {}) {
  Maintenance m;
  m.id = std::move(id);
  m.name = std::move(name);
  m.since = since;
  m.till = till;
  m.hosts = std::move(hosts);
  m.groups = std::move(groups);
  m.from_zpark = m.name.starts_with("Zpark: ");
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(utc_minutes_read_as_date_and_time) {
  BOOST_TEST(format_utc_minute(1'700'000'000) == "2023-11-14 22:13 UTC");
  BOOST_TEST(format_utc_minute(0) == "1970-01-01 00:00 UTC");
}

BOOST_AUTO_TEST_CASE(a_created_maintenance_names_itself_its_target_and_its_end) {
  MaintenanceResult r;
  r.outcome = MaintenanceOutcome::done;
  r.target = "Database 01 (db01)";
  const std::int64_t since = kNow - kNow % 60;
  r.maintenance = maintenance("17", "Zpark: disk swap (ann@example.com)", since, since + 7200, {"Database 01 (db01)"});
  BOOST_TEST(maintenance_created_reply(kDirect, r, false, "db01") ==
             "Created maintenance **Zpark: disk swap \\(ann@example.com\\)** (id 17) for host **Database 01 \\(db01\\)** "
             "from 2023-11-14 22:13 UTC until 2023-11-15 00:13 UTC (2h), with data collection. End it early with "
             "`maintenance end 17`.");
  BOOST_TEST(maintenance_created_reply(kGroup, r, true, "x").starts_with(kGreeting + "Created maintenance"));
  BOOST_TEST(maintenance_created_reply(kDirect, r, true, "x").find("for host group **") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_maintenance_not_created_says_why) {
  MaintenanceResult r;
  r.outcome = MaintenanceOutcome::no_target;
  BOOST_TEST(maintenance_created_reply(kDirect, r, false, "dbx") ==
             "I found no host called **dbx** in Zabbix (by technical or visible name), or Zpark's Zabbix account is "
             "not allowed to see it. No maintenance was created.");
  r.candidates = {"db01", "db02"};
  BOOST_TEST(maintenance_created_reply(kDirect, r, false, "db").ends_with(
      "No maintenance was created.\n\nHosts whose names contain it:\n\n- db01\n- db02\n\nPlease write the name exactly "
      "(in double quotes when it has spaces)."));
  r.outcome = MaintenanceOutcome::several_targets;
  r.candidates = {"Web (web-a)", "Web (web-b)"};
  const auto several = maintenance_created_reply(kDirect, r, false, "Web");
  BOOST_TEST(several.starts_with("Several hosts are called **Web**, so I created no maintenance:"));
  BOOST_TEST(items(several) == 2u);
  r.outcome = MaintenanceOutcome::no_permission;
  r.target = "db01";
  BOOST_TEST(maintenance_created_reply(kDirect, r, false, "db01") ==
             "Zpark's Zabbix account is not allowed to create maintenances for **db01**. It needs an Admin role with "
             "write access to the host's group; please ask your Zabbix administrator.");
  r.outcome = MaintenanceOutcome::refused;
  r.detail = "Invalid parameter \"/1/name\": value is too long.";
  BOOST_TEST(maintenance_created_reply(kDirect, r, false, "db01") ==
             "Zabbix refused the maintenance for **db01**: Invalid parameter \"/1/name\": value is too long..");
}

BOOST_AUTO_TEST_CASE(the_maintenance_list_shows_active_then_planned_ones) {
  const std::vector<Maintenance> list = {
      maintenance("17", "Zpark: disk swap (ann@example.com)", kNow - 600, kNow + 3000, {"db01"}),
      maintenance("18", "Weekly backup", kNow + 3600, kNow + 7200, {"db02", "db03"}, {"Linux servers"}),
      maintenance("19", "Empty", kNow + 3600, kNow + 7200, {}),
  };
  BOOST_TEST(maintenance_list_reply(kDirect, list, kNow) ==
             "**3** active or planned maintenances, active ones first:\n"
             "\n"
             "- 17: **Zpark: disk swap \\(ann@example.com\\)** - host db01 - until 2023-11-14 23:03 UTC (in 50m)\n"
             "- 18: **Weekly backup** - hosts db02, db03; group Linux servers - from 2023-11-14 23:13 UTC until "
             "2023-11-15 00:13 UTC (starts in 1h)\n"
             "- 19: **Empty** - no hosts - from 2023-11-14 23:13 UTC until 2023-11-15 00:13 UTC (starts in 1h)\n"
             "\n"
             "End one made from Webex with `maintenance end ID`.");
  BOOST_TEST(maintenance_list_reply(kDirect, {}, kNow) == "There are no active or planned maintenances in Zabbix.");
  BOOST_TEST(maintenance_list_reply(kDirect, {list[0]}, kNow).starts_with("**One** active or planned maintenance:"));
}

BOOST_AUTO_TEST_CASE(a_thousand_hostile_maintenances_fit_one_message) {
  std::vector<Maintenance> list;
  for (int i = 0; i < 1000; ++i)
    list.push_back(maintenance(std::to_string(i), kHostile, kNow, kNow + 60,
                               std::vector<std::string>(50, kHostile), std::vector<std::string>(50, kHostile)));
  const auto r = maintenance_list_reply(kGroup, list, kNow);
  BOOST_TEST(r.size() <= kMaxMessageBytes);
  BOOST_TEST(r.find("**1000** active or planned maintenances") != std::string::npos);
  BOOST_TEST(r.find(" more") != std::string::npos);
  check_defused(r, kGroup);
  BOOST_TEST(valid_utf8(r));
}

BOOST_AUTO_TEST_CASE(ending_a_maintenance_says_what_happened) {
  MaintenanceResult r;
  r.outcome = MaintenanceOutcome::done;
  r.maintenance = maintenance("17", "Zpark: disk swap (ann@example.com)", kNow - 600, kNow + 3000, {"db01"});
  BOOST_TEST(maintenance_ended_reply(kDirect, r, "17") ==
             "Ended maintenance **Zpark: disk swap \\(ann@example.com\\)** (id 17) of host db01: it is deleted, and its "
             "hosts leave maintenance within a minute.");
  r.maintenance = {};
  BOOST_TEST(maintenance_ended_reply(kDirect, r, "17").starts_with("Ended maintenance **17**: it is deleted"));
  r.outcome = MaintenanceOutcome::not_found;
  BOOST_TEST(maintenance_ended_reply(kDirect, r, "17") ==
             "I can't find maintenance **17** in Zabbix, or Zpark's Zabbix account is not allowed to see it. "
             "`maintenance list` shows the current ones.");
  r.outcome = MaintenanceOutcome::not_ours;
  r.maintenance = maintenance("18", "Weekly backup", kNow, kNow + 60, {"db02"});
  BOOST_TEST(maintenance_ended_reply(kDirect, r, "18") ==
             "Maintenance **Weekly backup** (id 18) was not made from Webex, so I leave it alone; please end it in "
             "the Zabbix frontend.");
  r.outcome = MaintenanceOutcome::already_over;
  BOOST_TEST(maintenance_ended_reply(kDirect, r, "18") ==
             "Maintenance **Weekly backup** (id 18) already ended at 2023-11-14 22:14 UTC; nothing to do.");
  r.outcome = MaintenanceOutcome::no_permission;
  BOOST_TEST(maintenance_ended_reply(kDirect, r, "18").starts_with(
      "Zpark's Zabbix account is not allowed to delete maintenance **Weekly backup** (id 18)."));
}

BOOST_AUTO_TEST_CASE(help_names_the_write_commands_with_examples) {
  const auto r = help_reply(kDirect, "the NOC");
  for (const char* part : {"`ack EVENTID [message]`", "`ack 8812 looking into it`", "`unack EVENTID`",
                           "`close EVENTID [message]`", "when its trigger allows it", "`comment EVENTID message`",
                           "`maintenance host NAME DURATION [reason]`", "`maintenance group NAME DURATION [reason]`",
                           "`maintenance host db01 2h disk swap`", "5m to 30d", "`maintenance list`",
                           "`maintenance end ID`", "thread", "with your name"})
    BOOST_TEST(r.find(part) != std::string::npos, part);
  BOOST_TEST(r.size() <= kMaxMessageBytes);
}
