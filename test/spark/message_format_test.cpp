// Alert -> Webex markdown: markers, escaping of the alert's text, splitting.
#define BOOST_TEST_MODULE message_format
#include <boost/test/unit_test.hpp>

#include "spark/message_format.hpp"

#include <string>

using namespace zpark::spark;

namespace {

Alert alert(std::string subject, AlertKind kind = AlertKind::problem, std::string message = "") {
  Alert a;
  a.to = "ops@example.com";
  a.subject = std::move(subject);
  a.kind = kind;
  a.event_id = kind == AlertKind::plain ? "" : "1";
  a.has_message = !message.empty();
  a.message = std::move(message);
  return a;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t lines(const std::string& s) {
  std::size_t n = 1;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(markers_subject_and_message) {
  auto p = alert("Disk full", AlertKind::problem, "on db01");
  BOOST_TEST(format_markdown(p) == "**\xF0\x9F\x94\xB4 PROBLEM** **Disk full**\n\non db01");
  BOOST_TEST(has(format_markdown(alert("Resolved", AlertKind::recovery)), "RESOLVED"));
  BOOST_TEST(format_markdown(alert("", AlertKind::plain)) == "(no subject)");
}

BOOST_AUTO_TEST_CASE(a_subject_cannot_mention_anyone) {
  for (const char* subject : {"<@all> look", "ping <@personEmail:boss@example.com|Boss>", "<@personId:Y2lz>",
                              "<@groupMention:abc>", "x <\\@all>"}) {
    auto md = format_markdown(alert(subject));
    BOOST_TEST(!has(md, "<@"), md);
    BOOST_TEST(!has(md, "<\\@"), md);
  }
}

BOOST_AUTO_TEST_CASE(a_subject_cannot_break_the_layout_or_pose_as_a_resolved_line) {
  auto md = format_markdown(alert("cpu** ok\n\n**\xE2\x9C\x85 RESOLVED** all fine"));
  // One line: the subject cannot start a line of its own, so it cannot pose as our marker.
  BOOST_TEST(lines(md) == 1u, md);
  BOOST_TEST(md.starts_with("**\xF0\x9F\x94\xB4 PROBLEM** **"));
  BOOST_TEST(md.ends_with("**"));
  // Its own ** are escaped: the bold span is ours, from the first ** to the last.
  BOOST_TEST(!has(md.substr(std::string("**\xF0\x9F\x94\xB4 PROBLEM** **").size(),
                            md.size() - std::string("**\xF0\x9F\x94\xB4 PROBLEM** **").size() - 2),
                  "**"),
             md);
  BOOST_TEST(has(md, "cpu\\*\\* ok"), md);
}

BOOST_AUTO_TEST_CASE(the_message_keeps_its_markdown_but_cannot_mention_anyone) {
  auto md = format_markdown(alert("s", AlertKind::problem, "**Host:** db01\n- item 1\n<@all> and <@personEmail:a@b.c>"));
  BOOST_TEST(has(md, "\n\n**Host:** db01\n- item 1\n"), md);
  BOOST_TEST(!has(md, "<@"), md);
  BOOST_TEST(has(md, "&lt;@all>"), md);
}

BOOST_AUTO_TEST_CASE(update_texts_are_escaped) {
  auto u = alert("Update", AlertKind::update);
  u.update_user = "<@all>";
  u.update_message = "**\xE2\x9C\x85 RESOLVED**\nnot really";
  auto md = format_markdown(u);
  BOOST_TEST(!has(md, "<@"), md);
  BOOST_TEST(!has(md, "\n**\xE2\x9C\x85"), md);
  BOOST_TEST(has(md, "\\*\\*"), md);
}

BOOST_AUTO_TEST_CASE(a_reply_is_sent_verbatim) {
  Alert r;
  r.to = "ROOM";
  r.kind = AlertKind::reply;
  r.parent_id = "PARENT";
  r.message = "Hello <@personEmail:joel@example.com|Joel>, **3** issues";
  BOOST_TEST(format_markdown(r) == r.message);
}

BOOST_AUTO_TEST_CASE(long_text_is_split_utf8_safe_and_cut) {
  auto parts = split_message(std::string(100000, 'y'));
  BOOST_TEST(parts.size() == kMaxParts);
  BOOST_TEST(parts.back().find("message cut") != std::string::npos);
  for (auto& part : parts) BOOST_TEST(part.size() <= kMaxMessageBytes);
  std::string euro;
  for (int i = 0; i < 4000; ++i) euro += "\xE2\x82\xAC";
  for (auto& part : split_message(euro)) {
    auto body = part.substr(part.find('\n') + 1);
    BOOST_TEST(body.size() % 3 == 0u);
  }
}
