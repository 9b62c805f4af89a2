// The problem card and the meaning of its buttons: pure, no I/O.
#define BOOST_TEST_MODULE cards
#include <boost/test/unit_test.hpp>

#include "spark/cards.hpp"

#include <boost/json.hpp>

using namespace zpark::spark;
namespace json = boost::json;

namespace {

Alert problem() {
  Alert a;
  a.to = "ops@example.com";
  a.kind = AlertKind::problem;
  a.subject = "Problem: Disk full on db01";
  a.event_id = "8812";
  a.trigger_id = "13001";
  a.host = "db01";
  a.severity = "High";
  return a;
}

json::value inputs(const char* text) { return json::parse(text); }

}  // namespace

BOOST_AUTO_TEST_CASE(the_card_has_the_four_buttons_and_a_comment_field) {
  auto card = problem_card(problem(), CardOptions{"https://zabbix.example.com/zabbix/"});
  BOOST_TEST(card.at("type").as_string() == "AdaptiveCard");
  BOOST_TEST(card.at("version").as_string() == "1.3");
  const auto& actions = card.at("actions").as_array();
  BOOST_REQUIRE(actions.size() == 4u);
  BOOST_TEST(actions[0].at("title").as_string() == "Acknowledge");
  BOOST_TEST(json::serialize(actions[0].at("data")) == R"({"zpark":"ack","event":"8812"})");
  BOOST_TEST(actions[1].at("title").as_string() == "Acknowledge with comment");
  BOOST_TEST(actions[2].at("title").as_string() == "Close");
  BOOST_TEST(actions[3].at("type").as_string() == "Action.OpenUrl");
  BOOST_TEST(actions[3].at("url").as_string() ==
             "https://zabbix.example.com/zabbix/tr_events.php?triggerid=13001&eventid=8812");
  bool field = false;
  for (auto& b : card.at("body").as_array())
    if (b.at("type").as_string() == "Input.Text" && b.at("id").as_string() == "comment") field = true;
  BOOST_TEST(field);
  BOOST_TEST(json::serialize(card).find("Disk full on db01") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(open_in_zabbix_links_to_the_event_or_the_problem_view) {
  BOOST_TEST(zabbix_event_url("http://z/api_jsonrpc.php", "1", "2") == "http://z/tr_events.php?triggerid=1&eventid=2");
  BOOST_TEST(zabbix_event_url("http://z", "", "2") == "http://z/zabbix.php?action=problem.view");
  BOOST_TEST(zabbix_event_url("http://z", "1&x=2", "2") == "http://z/zabbix.php?action=problem.view");
  BOOST_TEST(zabbix_event_url("", "1", "2").empty());
  auto card = problem_card(problem(), CardOptions{""});
  BOOST_TEST(card.at("actions").as_array().size() == 3u);  // no frontend known: no link
}

BOOST_AUTO_TEST_CASE(the_card_goes_as_a_reply_under_the_problem_message_with_a_fallback) {
  auto r = problem_card_reply(problem(), "ROOT-1", CardOptions{"http://z"});
  BOOST_TEST((r.kind == AlertKind::reply));
  BOOST_TEST(r.to == "ops@example.com");
  BOOST_TEST(r.parent_id == "ROOT-1");
  BOOST_TEST(r.message.find("8812") != std::string::npos);
  BOOST_TEST(json::parse(r.card).at("type").as_string() == "AdaptiveCard");
  // It survives the outbox (the payload's JSON form).
  auto back = alert_from_json(to_json(r));
  BOOST_TEST(back.card == r.card);
  BOOST_TEST(back.parent_id == "ROOT-1");
}

BOOST_AUTO_TEST_CASE(buttons_are_read_from_the_action_inputs) {
  auto ack = read_card_press(inputs(R"({"zpark":"ack","event":"8812","comment":"ignored here"})"));
  BOOST_REQUIRE(ack.has_value());
  BOOST_TEST((ack->kind == zpark::spark::Command::Kind::ack));
  BOOST_TEST(ack->event_id == "8812");
  BOOST_TEST(ack->comment.empty());
  auto with = read_card_press(inputs(R"({"zpark":"ack_comment","event":"8812","comment":"  swapped the disk \n"})"));
  BOOST_REQUIRE(with.has_value());
  BOOST_TEST(with->comment == "swapped the disk");
  auto close = read_card_press(inputs(R"({"zpark":"close","event":"8812"})"));
  BOOST_REQUIRE(close.has_value());
  BOOST_TEST((close->kind == zpark::spark::Command::Kind::close));
  auto long_comment = read_card_press(json::value{{"zpark", "ack_comment"}, {"event", "1"}, {"comment", std::string(5000, 'x')}});
  BOOST_TEST(long_comment->comment.size() == kMaxCommentBytes);
  for (const char* bad : {R"({"zpark":"ack"})", R"({"zpark":"ack","event":"88 12"})", R"({"zpark":"unack","event":"1"})",
                          R"({"event":"1"})", R"([1])", R"({"zpark":"ack","event":1})"})
    BOOST_TEST(!read_card_press(inputs(bad)).has_value(), bad);
}
