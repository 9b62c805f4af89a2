// Unit tests of the emulator's pure logic: no sockets, no sleeping (time is injected).
#define BOOST_TEST_MODULE emulator_test
#include "emulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "faults.hpp"
#include "ids.hpp"
#include "messages.hpp"
#include "paging.hpp"

namespace json = boost::json;
using namespace emu;

namespace {

json::value parse(std::string_view s) { return json::parse(s); }

HttpIn http(std::string method, std::string target, std::string body = "",
            std::string auth = "Bearer test-token") {
  HttpIn in;
  in.method = std::move(method);
  in.target = std::move(target);
  in.body = std::move(body);
  in.authorization = std::move(auth);
  in.content_type = in.body.empty() ? "" : "application/json";
  in.host = "127.0.0.1:4443";
  return in;
}

std::string header(const Outcome& o, std::string_view name) {
  for (const auto& [k, v] : o.headers)
    if (k == name) return v;
  return {};
}

struct Fixture {
  Emulator emu{Config{}};
  std::int64_t clock_ms = 0;

  Outcome call(HttpIn in) {
    Now now{clock_ms += 5, std::chrono::system_clock::time_point{std::chrono::seconds(1700000000)}};
    return emu.handle(in, now);
  }
  json::value call_json(HttpIn in, unsigned expect = 200) {
    Outcome o = call(std::move(in));
    BOOST_TEST_REQUIRE(o.status == expect, "status " << o.status << " body " << o.body);
    return o.body.empty() ? json::value{} : parse(o.body);
  }
  std::string post_message(std::string body) {
    return std::string(
        call_json(http("POST", "/v1/messages", std::move(body))).at("id").as_string());
  }
  void faults(std::string body) { call_json(http("POST", "/_emu/faults", std::move(body), "")); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ids)

BOOST_AUTO_TEST_CASE(base64url_round_trips_and_is_url_safe) {
  std::string raw = "ciscospark://us/MESSAGE/\xff\xfe?>";
  auto enc = base64url_encode(raw);
  BOOST_TEST(enc.find_first_of("+/=") == std::string::npos);
  BOOST_TEST(*base64url_decode(enc) == raw);
  BOOST_TEST(!base64url_decode("not base64!"));
}

BOOST_AUTO_TEST_CASE(ids_look_like_webex_and_never_repeat) {
  IdMaker ids(42);
  auto a = ids.next("MESSAGE"), b = ids.next("MESSAGE");
  BOOST_TEST(a != b);
  BOOST_TEST(base64url_decode(a)->starts_with("ciscospark://us/MESSAGE/"));
  BOOST_TEST(ids.derived("ROOM", "x") == ids.derived("ROOM", "x"));
  BOOST_TEST(ids.derived("ROOM", "x") != ids.derived("ROOM", "y"));
  BOOST_TEST(IdMaker(1).next("ROOM") != IdMaker(2).next("ROOM"));
  BOOST_TEST(ids.tracking_id().starts_with("EMU_"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(paging)

BOOST_AUTO_TEST_CASE(max_is_checked) {
  BOOST_TEST(*parse_max(std::nullopt, 100, 1000) == 100u);
  BOOST_TEST(*parse_max("7", 100, 1000) == 7u);
  for (auto bad : {"0", "1001", "x", "5x", "-1", ""}) BOOST_TEST(!parse_max(bad, 100, 1000), bad);
}

BOOST_AUTO_TEST_CASE(pages_and_cursors) {
  Page p = paginate(5, 4, 2);
  BOOST_TEST(p.begin == 4u);
  BOOST_TEST(p.end == 5u);
  BOOST_TEST(!p.more);
  BOOST_TEST(paginate(5, 0, 2).more);
  BOOST_TEST(paginate(5, 9, 2).begin == 5u);
  auto c = encode_cursor(json::object{{"o", 2}, {"t", "group"}});
  auto back = decode_cursor(c);
  BOOST_TEST_REQUIRE(back.has_value());
  BOOST_TEST(*cursor_number(*back, "o") == 2u);
  BOOST_TEST(!decode_cursor("%%%"));
  BOOST_TEST(next_link("h:1", "/v1/rooms", 2, "C") ==
             "<https://h:1/v1/rooms?max=2&cursor=C>; rel=\"next\"");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(parsing_is_strict) {
  BOOST_TEST(!parse_faults(parse(R"({"error_5xx_ration":0.1})")));
  BOOST_TEST(!parse_faults(parse(R"({"reset_ratio":1.5})")));
  BOOST_TEST(!parse_faults(parse(R"({"fail_next":[{"status":200}]})")));
  BOOST_TEST(!parse_faults(parse(R"({"burst_429":{"count":-1}})")));
  BOOST_TEST(!parse_faults(parse(R"([])")));
  auto s = parse_faults(parse(
      R"({"fail_next":[{"status":503},{"status":429,"retry_after":2}],"delay_ms":10,
          "unknown_emails":["Nobody@Example.com"],"burst_429":{"count":1}})"));
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->fail_next.size() == 2u);
  BOOST_TEST(!s->fail_next[0].retry_after);
  BOOST_TEST(*s->fail_next[1].retry_after == 2u);
  BOOST_TEST(s->unknown_emails.count("nobody@example.com") == 1u);
  BOOST_TEST(!s->burst_429_retry_after);
}

BOOST_AUTO_TEST_CASE(counters_are_consumed_in_order) {
  Faults f;
  f.set(*parse_faults(parse(
      R"({"reset_next":1,"burst_429":{"count":1,"retry_after":3},
          "fail_next":[{"status":502}],"accept_then_reset_next":1})")));
  BOOST_TEST(f.decide(true).kind == FaultDecision::reset);
  auto burst = f.decide(false);
  BOOST_TEST(burst.kind == FaultDecision::canned);
  BOOST_TEST(burst.answer.status == 429u);
  BOOST_TEST(*burst.answer.retry_after == 3u);
  BOOST_TEST(f.decide(false).kind == FaultDecision::none);  // fail_next waits for a POST
  auto canned = f.decide(true);
  BOOST_TEST(canned.answer.status == 502u);
  BOOST_TEST(f.decide(false).reset_after_processing == false);
  BOOST_TEST(f.decide(true).reset_after_processing == true);
  BOOST_TEST(f.decide(true).kind == FaultDecision::none);
}

BOOST_AUTO_TEST_CASE(ratios_are_seeded_and_roughly_right) {
  auto run = [](std::uint64_t seed) {
    Faults f;
    f.set(*parse_faults(parse(R"({"error_5xx_ratio":0.3,"seed":)" + std::to_string(seed) + "}")));
    std::string out;
    for (int i = 0; i < 2000; ++i) {
      auto d = f.decide(false);
      out += d.kind == FaultDecision::none ? '.' : static_cast<char>('0' + d.answer.status % 10);
    }
    return out;
  };
  auto a = run(7);
  BOOST_TEST(a == run(7));
  BOOST_TEST(a != run(8));
  auto failures = std::count_if(a.begin(), a.end(), [](char c) { return c != '.'; });
  BOOST_TEST(failures > 500);
  BOOST_TEST(failures < 700);
  for (char c : std::string("023")) BOOST_TEST(a.find(c) != std::string::npos);  // 500/2/3
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(message_rules)

BOOST_AUTO_TEST_CASE(shape_checks) {
  BOOST_TEST(parse_new_message(parse(R"({"roomId":"r","text":"x"})")).has_value());
  BOOST_TEST(!parse_new_message(parse(R"({"text":"x"})")));
  BOOST_TEST(!parse_new_message(parse(R"({"roomId":"r","toPersonId":"p","text":"x"})")));
  BOOST_TEST(!parse_new_message(parse(R"({"roomId":"r"})")));
  BOOST_TEST(!parse_new_message(parse(R"({"roomId":"r","text":""})")));
  BOOST_TEST(!parse_new_message(parse(R"({"roomId":7,"text":"x"})")));
  BOOST_TEST(!parse_new_message(parse(R"({"toPersonEmail":"nobody","text":"x"})")));
  auto email = parse_new_message(parse(R"({"toPersonEmail":"A@B.c","markdown":"x"})"));
  BOOST_TEST(email->target_value == "a@b.c");

  json::object o{{"roomId", "r"}, {"text", std::string(max_text_bytes, 'a')}};
  BOOST_TEST(parse_new_message(o).has_value());
  o["text"] = std::string(max_text_bytes + 1, 'a');
  BOOST_TEST(parse_new_message(o).error().status == 400u);
  o["text"] = "x";
  o["markdown"] = std::string(max_text_bytes + 1, 'a');
  BOOST_TEST(!parse_new_message(o));
}

BOOST_AUTO_TEST_CASE(cards_need_the_adaptive_content_type) {
  auto good = parse(R"({"roomId":"r","text":"fallback","attachments":[
      {"contentType":"application/vnd.microsoft.card.adaptive",
       "content":{"type":"AdaptiveCard"}}]})");
  BOOST_TEST(parse_new_message(good).has_value());
  BOOST_TEST(!parse_new_message(parse(
      R"({"roomId":"r","text":"x","attachments":[{"contentType":"text/plain","content":{}}]})")));
  BOOST_TEST(!parse_new_message(parse(R"({"roomId":"r","text":"x","attachments":{}})")));
}

BOOST_AUTO_TEST_CASE(targets_threads_and_edits) {
  Store store(1, "zpark@webex.bot");
  Faults faults;
  faults.set(*parse_faults(parse(R"({"unknown_emails":["gone@example.com"]})")));
  auto send = [&](const char* body) {
    return create_message(store, faults, *parse_new_message(parse(body)), "t");
  };
  auto first = send(R"({"toPersonEmail":"Ann@example.com","text":"1"})");
  auto second = send(R"({"toPersonEmail":"ann@example.com","text":"2"})");
  BOOST_TEST((*first)->room_id == (*second)->room_id);  // one direct room per person
  BOOST_TEST((*first)->room_type == "direct");
  BOOST_TEST(send(R"({"toPersonEmail":"gone@example.com","text":"x"})").error().status == 404u);
  BOOST_TEST(send(R"({"toPersonId":"unknown","text":"x"})").error().status == 404u);

  std::string root = (*first)->id, room = (*first)->room_id;
  auto reply =
      send((R"({"roomId":")" + room + R"(","text":"r","parentId":")" + root + "\"}").c_str());
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST((*reply)->room_type == "direct");
  auto nested = send(
      (R"({"roomId":")" + room + R"(","text":"r","parentId":")" + (*reply)->id + "\"}").c_str());
  BOOST_TEST(nested.error().status == 400u);
  BOOST_TEST(send(R"({"roomId":"other","text":"r","parentId":"nope"})").error().status == 400u);
  auto elsewhere = send((R"({"roomId":"other","text":"r","parentId":")" + root + "\"}").c_str());
  BOOST_TEST(elsewhere.error().status == 400u);

  MessageEdit wrong_room{"other", std::string("e"), std::nullopt};
  BOOST_TEST(edit_message(store, root, wrong_room, "t").error().status == 400u);
  for (unsigned i = 0; i < max_edits; ++i)
    BOOST_TEST(edit_message(store, root, MessageEdit{room, "e", {}}, "t").has_value());
  BOOST_TEST(edit_message(store, root, MessageEdit{room, "e", {}}, "t").error().status == 400u);
  BOOST_TEST(store.message(root)->edit_count == max_edits);
  BOOST_TEST(edit_message(store, "nope", MessageEdit{room, "e", {}}, "t").error().status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(whole_emulator, Fixture)

BOOST_AUTO_TEST_CASE(authorisation_and_tracking_ids) {
  auto me = call_json(http("GET", "/v1/people/me"));
  BOOST_TEST(me.at("type").as_string() == "bot");
  BOOST_TEST(me.at("emails").at(0).as_string() == "zpark@webex.bot");
  for (auto auth : {"", "Bearer wrong", "bearer test-token", "Bearer test-token2"}) {
    Outcome o = call(http("GET", "/v1/people/me", "", auth));
    BOOST_TEST(o.status == 401u, auth);
    auto body = parse(o.body);
    BOOST_TEST(body.at("trackingId").as_string() == header(o, "TrackingID"));
    BOOST_TEST(body.at("errors").at(0).at("description").is_string());
  }
  BOOST_TEST(header(call(http("GET", "/_emu/stats", "", "")), "TrackingID").starts_with("EMU_"));
  BOOST_TEST(call(http("GET", "/v1/nowhere")).status == 404u);
  BOOST_TEST(call(http("PATCH", "/v1/messages")).status == 405u);
}

BOOST_AUTO_TEST_CASE(unauthorised_requests_do_not_use_up_faults) {
  faults(R"({"reset_next":1})");
  BOOST_TEST(call(http("GET", "/v1/people/me", "", "")).status == 401u);
  BOOST_TEST((call(http("GET", "/v1/people/me")).disposition == Disposition::reset));
  BOOST_TEST(call(http("GET", "/v1/people/me")).status == 200u);
}

BOOST_AUTO_TEST_CASE(messages_round_trip_and_are_logged) {
  std::string id = post_message(R"({"roomId":"r1","markdown":"**hi**"})");
  auto got = call_json(http("GET", "/v1/messages/" + id));
  BOOST_TEST(got.at("markdown").as_string() == "**hi**");
  BOOST_TEST(got.at("roomType").as_string() == "group");
  BOOST_TEST(got.at("personEmail").as_string() == "zpark@webex.bot");
  BOOST_TEST(got.at("created").as_string() == "2023-11-14T22:13:20.000Z");

  auto edited = call_json(http("PUT", "/v1/messages/" + id, R"({"roomId":"r1","text":"new"})"));
  BOOST_TEST(edited.at("text").as_string() == "new");
  call_json(http("DELETE", "/v1/messages/" + id), 204);
  call_json(http("GET", "/v1/messages/" + id), 404);

  auto stored = call_json(http("GET", "/_emu/messages", "", "")).at("messages");
  BOOST_TEST(stored.as_array().size() == 1u);
  BOOST_TEST(stored.at(0).at("edits").as_int64() == 1);
  BOOST_TEST(stored.at(0).at("deleted").as_bool());
  BOOST_TEST(!stored.at(0).as_object().contains("markdown"));  // the edit sent only text

  auto log = call_json(http("GET", "/_emu/requests", "", "")).at("requests").as_array();
  BOOST_TEST_REQUIRE(log.size() == 5u);  // control requests are not logged
  BOOST_TEST(log[0].at("seq").as_int64() == 1);
  BOOST_TEST(log[0].at("method").as_string() == "POST");
  BOOST_TEST(log[0].at("path").as_string() == "/v1/messages");
  BOOST_TEST(log[0].at("body").at("markdown").as_string() == "**hi**");
  BOOST_TEST(log[0].at("message_id").as_string() == id);
  BOOST_TEST(log[0].at("authorization_ok").as_bool());
  BOOST_TEST(log[4].at("status").as_int64() == 404);
  BOOST_TEST(log[1].at("time_ms").as_int64() > log[0].at("time_ms").as_int64());
  auto since = call_json(http("GET", "/_emu/requests?since=3", "", "")).at("requests");
  BOOST_TEST(since.as_array().size() == 2u);
  BOOST_TEST(since.at(0).at("seq").as_int64() == 4);
}

BOOST_AUTO_TEST_CASE(message_listing_is_newest_first_and_paginated) {
  for (int i = 1; i <= 5; ++i)
    post_message(R"({"roomId":"r","text":")" + std::to_string(i) + "\"}");
  std::string target = "/v1/messages?roomId=r&max=2";
  std::string seen;
  for (int pages = 0; !target.empty(); ++pages) {
    BOOST_TEST_REQUIRE(pages < 5);
    Outcome o = call(http("GET", target));
    auto body = parse(o.body);  // named: a temporary would die before the loop body
    for (auto& m : body.at("items").as_array()) seen += m.at("text").as_string();
    auto link = header(o, "Link");
    target.clear();
    if (!link.empty()) {
      auto start = link.find("/v1/"), end = link.find('>');
      BOOST_TEST(link.starts_with("<https://127.0.0.1:4443/v1/messages?max=2&cursor="));
      target = link.substr(start, end - start);
      post_message(R"({"roomId":"r","text":"new"})");  // must not shift later pages
    }
  }
  BOOST_TEST(seen == "54321");
  call_json(http("GET", "/v1/messages"), 400);
}

BOOST_AUTO_TEST_CASE(rooms_are_seeded_and_paginated_by_type) {
  call_json(http("POST", "/_emu/rooms",
                 R"([{"id":"g1","title":"A","type":"group"},{"id":"d1","type":"direct"},
                     {"id":"g2","title":"B"},{"id":"g3","title":"C"}])",
                 ""));
  Outcome first = call(http("GET", "/v1/rooms?type=group&max=2"));
  BOOST_TEST(parse(first.body).at("items").as_array().size() == 2u);
  auto link = header(first, "Link");
  BOOST_TEST_REQUIRE(link.ends_with(">; rel=\"next\""));
  auto next = link.substr(link.find("/v1/"), link.find('>') - link.find("/v1/"));
  BOOST_TEST(next.find("type") == std::string::npos);  // the cursor carries the filter
  Outcome second = call(http("GET", next));
  auto items = parse(second.body).at("items").as_array();
  BOOST_TEST_REQUIRE(items.size() == 1u);
  BOOST_TEST(items[0].at("title").as_string() == "C");
  BOOST_TEST(header(second, "Link").empty());
  BOOST_TEST(call_json(http("GET", "/v1/rooms/d1")).at("type").as_string() == "direct");
  call_json(http("GET", "/v1/rooms/none"), 404);
  call_json(http("GET", "/v1/rooms?max=0"), 400);
  call_json(http("GET", "/v1/rooms?cursor=garbage"), 400);
}

BOOST_AUTO_TEST_CASE(webhooks_crud) {
  auto h = call_json(http("POST", "/v1/webhooks",
                          R"({"name":"z","targetUrl":"https://z/hook","resource":"messages",
                              "event":"created","filter":"mentionedPeople=me","secret":"s"})"));
  BOOST_TEST(h.at("status").as_string() == "active");
  std::string id(h.at("id").as_string());
  call_json(http("POST", "/v1/webhooks",
                 R"({"name":"z","targetUrl":"https://z","resource":"message","event":"created"})"),
            400);
  call_json(http("PUT", "/v1/webhooks/" + id, R"({"status":"active"})"), 400);
  auto put = call_json(http("PUT", "/v1/webhooks/" + id,
                            R"({"name":"z2","targetUrl":"https://z/2","status":"inactive"})"));
  BOOST_TEST(put.at("status").as_string() == "inactive");
  BOOST_TEST(put.at("secret").as_string() == "s");
  BOOST_TEST(call_json(http("GET", "/v1/webhooks")).at("items").as_array().size() == 1u);
  call_json(http("DELETE", "/v1/webhooks/" + id), 204);
  call_json(http("GET", "/v1/webhooks/" + id), 404);
}

BOOST_AUTO_TEST_CASE(people_actions_and_memberships) {
  auto people = call_json(http("GET", "/v1/people?email=Ann%40Example.com"));
  BOOST_TEST(people.at("items").at(0).at("emails").at(0).as_string() == "ann@example.com");
  std::string pid(people.at("items").at(0).at("id").as_string());
  BOOST_TEST(call_json(http("GET", "/v1/people/" + pid)).at("displayName").as_string() == "ann");
  faults(R"({"unknown_emails":["ann@example.com"]})");
  BOOST_TEST(
      call_json(http("GET", "/v1/people?email=ann@example.com")).at("items").as_array().empty());
  call_json(http("POST", "/v1/messages", R"({"toPersonEmail":"ann@example.com","text":"x"})"), 404);
  // toPersonId still works for a person already known
  call_json(http("POST", "/v1/messages", R"({"toPersonId":")" + pid + R"(","text":"x"})"));

  call_json(http("POST", "/_emu/attachment_actions", R"({"id":"A1","inputs":{"ack":"yes"}})", ""));
  auto action = call_json(http("GET", "/v1/attachment/actions/A1"));
  BOOST_TEST(action.at("inputs").at("ack").as_string() == "yes");
  call_json(http("GET", "/v1/attachment/actions/A2"), 404);
  BOOST_TEST(call_json(http("GET", "/v1/memberships?roomId=r")).at("items").as_array().empty());
}

BOOST_AUTO_TEST_CASE(canned_failures_and_delays) {
  faults(R"({"fail_next":[{"status":503},{"status":429,"retry_after":2}],"delay_ms":250})");
  Outcome get = call(http("GET", "/v1/people/me"));
  BOOST_TEST(get.status == 200u);
  BOOST_TEST(get.delay.count() == 250);
  Outcome a = call(http("POST", "/v1/messages", R"({"roomId":"r","text":"x"})"));
  BOOST_TEST(a.status == 503u);
  BOOST_TEST(header(a, "Retry-After").empty());
  Outcome b = call(http("POST", "/v1/messages", R"({"roomId":"r","text":"x"})"));
  BOOST_TEST(b.status == 429u);
  BOOST_TEST(header(b, "Retry-After") == "2");
  BOOST_TEST(call(http("POST", "/v1/messages", R"({"roomId":"r","text":"x"})")).status == 200u);
  BOOST_TEST(call_json(http("GET", "/_emu/messages", "", "")).at("messages").as_array().size() ==
             1u);

  faults("{}");  // a fresh object clears the delay too
  BOOST_TEST(call(http("GET", "/v1/people/me")).delay.count() == 0);
  call_json(http("POST", "/_emu/faults", R"({"nope":1})", ""), 400);
}

BOOST_AUTO_TEST_CASE(accept_then_reset_stores_but_does_not_answer) {
  faults(R"({"accept_then_reset_next":1})");
  Outcome o = call(http("POST", "/v1/messages", R"({"roomId":"r","text":"x"})"));
  BOOST_TEST((o.disposition == Disposition::reset));
  BOOST_TEST(call_json(http("GET", "/_emu/messages", "", "")).at("messages").as_array().size() ==
             1u);
  auto log = call_json(http("GET", "/_emu/requests", "", "")).at("requests");
  BOOST_TEST(log.at(0).at("outcome").as_string() == "accepted_then_reset");
  BOOST_TEST(log.at(0).at("message_id").as_string() == o.message_id);
}

BOOST_AUTO_TEST_CASE(reset_clears_everything) {
  post_message(R"({"roomId":"r","text":"x"})");
  faults(R"({"burst_429":{"count":5}})");
  emu.world().stats.tls_handshakes = 3;
  call_json(http("POST", "/_emu/reset", "", ""));
  BOOST_TEST(call_json(http("GET", "/_emu/messages", "", "")).at("messages").as_array().empty());
  BOOST_TEST(call_json(http("GET", "/_emu/requests", "", "")).at("requests").as_array().empty());
  BOOST_TEST(call_json(http("GET", "/_emu/stats", "", "")).at("tls_handshakes").as_int64() == 0);
  BOOST_TEST(call(http("GET", "/v1/people/me")).status == 200u);
}

BOOST_AUTO_TEST_CASE(seeded_incoming_message_can_be_fetched) {
  auto m = call_json(http("POST", "/_emu/messages",
                          R"({"personEmail":"Ann@example.com","text":"Zpark ack 42",
                              "html":"<p>x</p>","roomId":"g1"})",
                          ""));
  BOOST_TEST(m.at("personEmail").as_string() == "ann@example.com");
  auto got = call_json(http("GET", "/v1/messages/" + std::string(m.at("id").as_string())));
  BOOST_TEST(got.at("html").as_string() == "<p>x</p>");
  BOOST_TEST(got.at("roomType").as_string() == "group");
}

BOOST_AUTO_TEST_SUITE_END()
