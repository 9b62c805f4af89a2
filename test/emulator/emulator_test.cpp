// Unit tests of the emulator's pure logic: no sockets, no sleeping (time is injected).
#define BOOST_TEST_MODULE emulator_test
#include "emulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "deliveries.hpp"
#include "faults.hpp"
#include "ids.hpp"
#include "messages.hpp"
#include "multipart.hpp"
#include "paging.hpp"
#include "seeding.hpp"
#include "webhook_events.hpp"

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

// Faults::decide for "METHOD /v1/path".
FaultDecision decide(Faults& f, std::string_view method, std::string_view path) {
  std::vector<std::string> segments;
  for (std::size_t at = 1; at < path.size();) {
    auto end = std::min(path.find('/', at), path.size());
    segments.emplace_back(path.substr(at, end - at));
    at = end + 1;
  }
  return f.decide(method, segments);
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
  json::value control(std::string method, std::string path, std::string body = "",
                      unsigned expect = 200) {
    return call_json(http(std::move(method), std::move(path), std::move(body), ""), expect);
  }
  std::string webhook(std::string body) {
    return std::string(
        call_json(http("POST", "/v1/webhooks", std::move(body))).at("id").as_string());
  }
  json::array deliveries(std::uint64_t since = 0) {
    return control("GET", "/_emu/deliveries?since=" + std::to_string(since))
        .at("deliveries")
        .as_array();
  }
  const std::string& bot_id() { return emu.world().store.bot().id; }
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
  auto post = [&] { return decide(f, "POST", "/v1/messages"); };
  auto get = [&] { return decide(f, "GET", "/v1/people/me"); };
  BOOST_TEST(post().kind == FaultDecision::reset);
  auto burst = get();
  BOOST_TEST(burst.kind == FaultDecision::canned);
  BOOST_TEST(burst.answer.status == 429u);
  BOOST_TEST(*burst.answer.retry_after == 3u);
  BOOST_TEST(get().kind == FaultDecision::none);  // fail_next waits for a POST
  auto canned = post();
  BOOST_TEST(canned.answer.status == 502u);
  BOOST_TEST(get().reset_after_processing == false);
  BOOST_TEST(post().reset_after_processing == true);
  BOOST_TEST(post().kind == FaultDecision::none);
}

BOOST_AUTO_TEST_CASE(violation_grace_is_parsed_strictly) {
  BOOST_TEST(parse_faults(parse("{}"))->violation_grace_ms == 200u);
  BOOST_TEST(parse_faults(parse(R"({"violation_grace_ms":0})"))->violation_grace_ms == 0u);
  BOOST_TEST(parse_faults(parse(R"({"violation_grace_ms":1500})"))->violation_grace_ms == 1500u);
  for (auto bad : {R"({"violation_grace_ms":-1})", R"({"violation_grace_ms":"200"})",
                   R"({"violation_grace_ms":1.5})", R"({"violation_grace":200})"})
    BOOST_TEST(!parse_faults(parse(bad)), bad);
}

// The windows alone: overlapping 429s, a window that adds nothing, the list's cap.
BOOST_AUTO_TEST_CASE(rate_limit_windows_overlap_and_expire) {
  RateLimitWatch w;
  w.answered_429(1000, 2);  // 1000..3000
  w.answered_429(1100, 1);  // 1100..2100: inside the first, adds nothing
  w.answered_429(2500, 2);  // 2500..4500
  w.answered_429(2600, 0);  // Retry-After: 0 asks nobody to wait
  BOOST_TEST(w.windows() == 3u);
  BOOST_TEST(!w.arrived(1200, "a", 200));  // grace of the first
  BOOST_TEST(w.arrived(2999, "b", 200));
  BOOST_TEST(w.recent().back().ms_after_429 == 1999);
  BOOST_TEST(w.arrived(3000, "c", 200));   // the first is over; the third is 500 ms old
  BOOST_TEST(w.recent().back().ms_after_429 == 500);
  BOOST_TEST(!w.arrived(4500, "d", 200));  // all over
  for (int i = 0; i < 150; ++i) {
    w.answered_429(10000, 1);
    w.arrived(10300 + i, "e", 200);
  }
  BOOST_TEST(w.violations() == 152u);
  BOOST_TEST(w.recent().size() == RateLimitWatch::kept_violations);
  BOOST_TEST(w.recent().back().ms_after_429 == 449);
}

BOOST_AUTO_TEST_CASE(ratios_are_seeded_and_roughly_right) {
  auto run = [](std::uint64_t seed) {
    Faults f;
    f.set(*parse_faults(parse(R"({"error_5xx_ratio":0.3,"seed":)" + std::to_string(seed) + "}")));
    std::string out;
    for (int i = 0; i < 2000; ++i) {
      auto d = decide(f, "GET", "/v1/rooms");
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

BOOST_AUTO_TEST_CASE(route_faults_target_any_call_most_literal_first) {
  Faults f;
  f.set(*parse_faults(parse(R"({"fail_next_by_route":{
      "GET /v1/messages/{id}":[{"status":503},{"status":429,"retry_after":7}],
      "GET /v1/people/{id}":[{"reset":true},{"status":404}],
      "GET /v1/people/me":[{"status":500}]}})")));
  BOOST_TEST(decide(f, "GET", "/v1/messages").kind == FaultDecision::none);  // the listing
  BOOST_TEST(decide(f, "POST", "/v1/messages").kind == FaultDecision::none);
  BOOST_TEST(decide(f, "GET", "/v1/messages/M1").answer.status == 503u);
  auto limited = decide(f, "GET", "/v1/messages/M2");
  BOOST_TEST(limited.answer.status == 429u);
  BOOST_TEST(*limited.answer.retry_after == 7u);
  BOOST_TEST(decide(f, "GET", "/v1/messages/M3").kind == FaultDecision::none);
  BOOST_TEST(decide(f, "GET", "/v1/people/me").answer.status == 500u);         // literal beats {id}
  BOOST_TEST(decide(f, "GET", "/v1/people/me").kind == FaultDecision::reset);  // then {id}
  BOOST_TEST(decide(f, "GET", "/v1/people/P1").answer.status == 404u);
  BOOST_TEST(decide(f, "GET", "/v1/people/P1").kind == FaultDecision::none);
}

BOOST_AUTO_TEST_CASE(fail_next_goes_before_a_message_post_route) {
  Faults f;
  f.set(*parse_faults(parse(R"({"fail_next":[{"status":502}],)"
                            R"("fail_next_by_route":{"POST /v1/messages":[{"status":400}]}})")));
  BOOST_TEST(decide(f, "POST", "/v1/messages").answer.status == 502u);
  BOOST_TEST(decide(f, "POST", "/v1/messages").answer.status == 400u);
  BOOST_TEST(decide(f, "POST", "/v1/messages").kind == FaultDecision::none);
}

BOOST_DATA_TEST_CASE(
    route_fault_typos_are_refused,
    boost::unit_test::data::make({
        R"({"fail_next_by_route":{"GET /v1/message/{id}":[{"status":503}]}})",
        R"({"fail_next_by_route":{"GET /v1/messages/:id":[{"status":503}]}})",
        R"({"fail_next_by_route":{"GET v1/messages":[{"status":503}]}})",
        R"({"fail_next_by_route":{"FETCH /v1/messages":[{"status":503}]}})",
        R"({"fail_next_by_route":{"GET /v1/messages/{id}":{"status":503}}})",
        R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"status":200}]}})",
        R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"reset":true,"status":503}]}})",
        R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"stauts":503}]}})",
        R"({"fail_next_by_route":[]})",
        R"({"disable_webhook_after_failures":-1})",
    }),
    body) {
  auto s = parse_faults(parse(body));
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().status == 400u);
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

BOOST_AUTO_TEST_CASE(a_message_with_a_card_cannot_be_edited) {
  Store store(1, "zpark@webex.bot");
  Faults faults;
  auto card = create_message(store, faults, *parse_new_message(parse(R"({"roomId":"r","text":"fallback",
      "attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard"}}]})")), "t");
  auto plain = create_message(store, faults, *parse_new_message(parse(R"({"roomId":"r","markdown":"plain"})")), "t");
  BOOST_TEST_REQUIRE(card.has_value());
  auto refused = edit_message(store, (*card)->id, MessageEdit{"r", std::string("e"), std::nullopt}, "t");
  BOOST_TEST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().status == 400u);
  BOOST_TEST(refused.error().message.find("attachments") != std::string::npos);
  BOOST_TEST(store.message((*card)->id)->edit_count == 0u);
  BOOST_TEST(edit_message(store, (*plain)->id, MessageEdit{"r", std::string("e"), std::nullopt}, "t").has_value());
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

BOOST_AUTO_TEST_SUITE(webhook_events)

struct HmacVector {
  std::string key, data, mac;
};
std::ostream& operator<<(std::ostream& os, const HmacVector& v) { return os << v.mac; }

// RFC 2202, section 3 (HMAC-SHA-1): test cases 1, 2, 3, 6 and 7.
BOOST_DATA_TEST_CASE(
    hmac_sha1_matches_rfc_2202,
    boost::unit_test::data::make(std::vector<HmacVector>{
        {std::string(20, '\x0b'), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
        {"Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {std::string(20, '\xaa'), std::string(50, '\xdd'),
         "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {std::string(80, '\xaa'),
         "Test Using Larger Than Block-Size Key and Larger Than One Block-Size "
         "Data",
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
    }),
    v) {
  BOOST_TEST(hmac_sha1_hex(v.key, v.data) == v.mac);
}

struct FilterCase {
  std::string filter;
  bool group_mention, group_plain, direct_from_ann, bot_own_group;
};
std::ostream& operator<<(std::ostream& os, const FilterCase& c) { return os << c.filter; }

// Which of four messages reach a messages/created webhook with this filter. The group
// message without a mention never does: a bot only sees group messages that mention it.
BOOST_DATA_TEST_CASE(message_filters,
                     boost::unit_test::data::make(std::vector<FilterCase>{
                         {"", true, false, true, true},
                         {"mentionedPeople=me", true, false, false, false},
                         {"mentionedPeople=BOT", true, false, false, false},
                         {"roomType=direct", false, false, true, false},
                         {"roomType=group", true, false, false, true},
                         {"roomId=G", true, false, false, true},
                         {"roomId=G&mentionedPeople=me", true, false, false, false},
                         {"personEmail=ann@example.com", true, false, true, false},
                         {"personEmail=ANN%40example.com", true, false, true, false},
                         {"personId=BOT", false, false, false, true},
                         {"personEmail=bob@example.com", false, false, false, false},
                     }),
                     c) {
  Message group;
  group.id = "M1";
  group.room_id = "G";
  group.room_type = "group";
  group.person_id = "ANN";
  group.person_email = "ann@example.com";
  Message mention = group;
  mention.mentioned_people = json::array{"BOT"};
  Message direct = group;
  direct.room_id = "D";
  direct.room_type = "direct";
  Message own = group;
  own.person_id = "BOT";
  own.person_email = "zpark@webex.bot";
  Webhook h{.id = "W",
            .name = "z",
            .target_url = "http://127.0.0.1:9/",
            .resource = "messages",
            .event = "created",
            .status = "active",
            .created = "T"};
  if (!c.filter.empty()) h.filter = c.filter;
  BOOST_TEST_REQUIRE(parse_filter(c.filter, "messages").has_value());
  BOOST_TEST(webhook_wants(h, message_facts(mention), "BOT") == c.group_mention);
  BOOST_TEST(webhook_wants(h, message_facts(group), "BOT") == c.group_plain);
  BOOST_TEST(webhook_wants(h, message_facts(direct), "BOT") == c.direct_from_ann);
  BOOST_TEST(webhook_wants(h, message_facts(own), "BOT") == c.bot_own_group);
}

BOOST_AUTO_TEST_CASE(status_resource_and_event_gate_a_webhook) {
  Message m;
  m.id = "M";
  m.room_type = "direct";
  Webhook h{.id = "W",
            .name = "z",
            .target_url = "http://127.0.0.1:9/",
            .resource = "all",
            .event = "all",
            .status = "active",
            .created = "T"};
  BOOST_TEST(webhook_wants(h, message_facts(m), "BOT"));
  h.status = "inactive";
  BOOST_TEST(!webhook_wants(h, message_facts(m), "BOT"));
  h.status = "active";
  h.resource = "attachmentActions";
  BOOST_TEST(!webhook_wants(h, message_facts(m), "BOT"));
  h.resource = "messages";
  h.event = "deleted";
  BOOST_TEST(!webhook_wants(h, message_facts(m), "BOT"));
  // A term that does not apply to the event's resource never holds (webhook on "all").
  h.resource = "all";
  h.event = "created";
  h.filter = "roomType=direct";
  BOOST_TEST(webhook_wants(h, message_facts(m), "BOT"));
  json::object action{{"id", "A"}, {"personId", "P"}, {"messageId", "M"}, {"roomId", "R"}};
  BOOST_TEST(!webhook_wants(h, action_facts(action, "p@example.com"), "BOT"));
  h.filter = "messageId=M&personEmail=p@example.com";
  BOOST_TEST(webhook_wants(h, action_facts(action, "p@example.com"), "BOT"));
}

BOOST_DATA_TEST_CASE(bad_filters_are_refused,
                     boost::unit_test::data::make({"roomId", "=x", "roomId=", "roomId=a&",
                                                   "hasFiles=true", "roomId=a&roomId=b",
                                                   "roomType=team", "personEmail=a%4",
                                                   "personEmail=a%zz"}),
                     filter) {
  auto f = parse_filter(filter, "messages");
  BOOST_TEST_REQUIRE(!f);
  BOOST_TEST(f.error().status == 400u);
}

BOOST_AUTO_TEST_CASE(filter_keys_depend_on_the_resource) {
  BOOST_TEST(parse_filter("messageId=M&personId=P", "attachmentActions").has_value());
  BOOST_TEST(!parse_filter("roomType=group", "attachmentActions"));
  BOOST_TEST(!parse_filter("messageId=M", "messages"));
  BOOST_TEST(parse_filter("anything=goes", "memberships").has_value());  // never delivered
  BOOST_TEST(parse_filter("", "messages")->empty());
}

BOOST_AUTO_TEST_CASE(envelope_bytes_are_webex_shaped_and_stable) {
  Webhook h{.id = "W",
            .name = "zpark",
            .target_url = "http://127.0.0.1:9/hook",
            .resource = "messages",
            .event = "created",
            .status = "active",
            .created = "2024-01-01T00:00:00.000Z",
            .filter = "mentionedPeople=me",
            .secret = "s"};
  Message m;
  m.id = "M";
  m.room_id = "R";
  m.room_type = "group";
  m.person_id = "P";
  m.person_email = "ann@example.com";
  m.text = "Zpark help";  // never in the envelope
  m.mentioned_people = json::array{"B"};
  m.created = "2024-01-02T00:00:00.000Z";
  m.parent_id = "ROOT";
  auto body = envelope_body(h, Owner{"O", "A", "B"}, message_facts(m), message_event_data(m));
  BOOST_TEST(body ==
             R"({"id":"W","name":"zpark","targetUrl":"http://127.0.0.1:9/hook",)"
             R"("resource":"messages","event":"created","filter":"mentionedPeople=me",)"
             R"("orgId":"O","createdBy":"B","appId":"A","ownedBy":"creator","status":"active",)"
             R"("actorId":"P","created":"2024-01-01T00:00:00.000Z","data":{"id":"M","roomId":"R",)"
             R"("roomType":"group","personId":"P","personEmail":"ann@example.com",)"
             R"("mentionedPeople":["B"],"created":"2024-01-02T00:00:00.000Z","parentId":"ROOT"}})");
  BOOST_TEST(body == envelope_body(h, Owner{"O", "A", "B"}, message_facts(m),
                                   message_event_data(m)));  // a redelivery is identical
  json::object action{{"id", "A1"},       {"type", "submit"},
                      {"messageId", "M"}, {"inputs", json::object{{"ack", "1"}}},
                      {"personId", "P"},  {"roomId", "R"},
                      {"created", "C"}};
  h.filter.reset();
  h.resource = "attachmentActions";
  auto data = action_event_data(action);
  BOOST_TEST(
      json::serialize(data) ==
      R"({"id":"A1","type":"submit","messageId":"M","personId":"P","roomId":"R","created":"C"})");
  auto action_body = parse(envelope_body(h, Owner{"O", "A", "B"}, action_facts(action, ""), data));
  BOOST_TEST(!action_body.as_object().contains("filter"));
  BOOST_TEST(action_body.at("resource").as_string() == "attachmentActions");
  BOOST_TEST(action_body.at("actorId").as_string() == "P");
}

BOOST_AUTO_TEST_CASE(only_loopback_targets_are_delivered_to) {
  auto t = loopback_target("http://127.0.0.1:8080/api/v1/webhook?x=1");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(t->origin == "http://127.0.0.1:8080");
  BOOST_TEST(t->target == "/api/v1/webhook?x=1");
  BOOST_TEST(loopback_target("https://[::1]:8443")->origin == "https://[::1]:8443");
  BOOST_TEST(loopback_target("https://[::1]:8443")->target == "/");
  BOOST_TEST(loopback_target("https://LocalHost/hook").has_value());
  BOOST_TEST(loopback_target("http://127.8.9.10:1/").has_value());
  for (auto bad : {"https://example.com/hook", "http://10.0.0.1/", "http://[::2]/",
                   "ftp://127.0.0.1/", "not a url", "http://128.0.0.1/"})
    BOOST_TEST(!loopback_target(bad), bad);
}

BOOST_AUTO_TEST_CASE(bot_mention_renders_like_webex) {
  auto r = render_bot_mention("BOT", "Zpark", "show issues <b> & \"x\"");
  BOOST_TEST(r.text == "Zpark show issues <b> & \"x\"");
  BOOST_TEST(r.html ==
             "<p><spark-mention data-object-type=\"person\" data-object-id=\"BOT\">Zpark"
             "</spark-mention> show issues &lt;b&gt; &amp; &quot;x&quot;</p>");
  auto bare = render_bot_mention("BOT", "Zed's", "");
  BOOST_TEST(bare.text == "Zed's");
  BOOST_TEST(bare.html ==
             "<p><spark-mention data-object-type=\"person\" data-object-id=\"BOT\">Zed&#39;s"
             "</spark-mention></p>");
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

// What a test of several Zpark instances sharing one database checks: after a 429 with
// Retry-After: 2, no /v1 call from anyone until it has run out, apart from those already on
// their way (the grace, 200 ms unless set).
BOOST_AUTO_TEST_CASE(calls_inside_a_429s_retry_after_are_counted_as_violations) {
  auto at = [&](std::int64_t ms, HttpIn in) {
    clock_ms = ms - 5;  // call() advances the clock by 5 ms
    return call(std::move(in));
  };
  auto post = [] { return http("POST", "/v1/messages", R"({"roomId":"r","text":"x"})"); };
  auto stats = [&] { return control("GET", "/_emu/stats"); };
  faults(R"({"burst_429":{"count":1,"retry_after":2}})");
  BOOST_TEST(at(10'000, post()).status == 429u);
  BOOST_TEST(stats().at("rate_limit_windows").as_int64() == 1);
  BOOST_TEST(at(10'050, post()).status == 200u);  // already on its way: grace
  BOOST_TEST(stats().at("rate_limit_violations").as_int64() == 0);
  BOOST_TEST(at(10'500, http("GET", "/v1/people/me?x=1")).status == 200u);
  BOOST_TEST(at(12'100, post()).status == 200u);  // Retry-After has run out
  auto s = stats();
  BOOST_TEST(s.at("rate_limit_violations").as_int64() == 1);
  BOOST_TEST(s.at("rate_limit_windows").as_int64() == 1);
  BOOST_TEST(json::serialize(s.at("violations")) ==
             R"([{"request":"GET /v1/people/me?x=1","ms_after_429":500}])");

  call_json(http("POST", "/_emu/reset", "", ""));
  s = stats();
  BOOST_TEST(s.at("rate_limit_violations").as_int64() == 0);
  BOOST_TEST(s.at("rate_limit_windows").as_int64() == 0);
  BOOST_TEST(s.at("violations").as_array().empty());
}

// A call answered 429 by the rest of a burst is a violation all the same (and its 429 opens a
// window of its own); canned 429s open windows too, and the grace can be set.
BOOST_AUTO_TEST_CASE(a_burst_429_does_not_excuse_a_call_and_the_grace_is_settable) {
  auto at = [&](std::int64_t ms, HttpIn in) {
    clock_ms = ms - 5;
    return call(std::move(in));
  };
  auto get = [] { return http("GET", "/v1/rooms"); };
  auto stats = [&] { return control("GET", "/_emu/stats"); };
  faults(R"({"burst_429":{"count":3,"retry_after":2}})");
  BOOST_TEST(at(1'000, get()).status == 429u);
  BOOST_TEST(at(1'150, get()).status == 429u);  // grace
  BOOST_TEST(at(1'500, get()).status == 429u);  // violation, answered 429 all the same
  auto s = stats();
  BOOST_TEST(s.at("rate_limit_violations").as_int64() == 1);
  BOOST_TEST(s.at("rate_limit_windows").as_int64() == 3);
  BOOST_TEST(s.at("violations").at(0).at("ms_after_429").as_int64() == 500);
  BOOST_TEST(at(3'400, get()).status == 200u);  // inside the last 429's window (to 3500)
  BOOST_TEST(stats().at("rate_limit_violations").as_int64() == 2);
  BOOST_TEST(at(3'500, get()).status == 200u);
  BOOST_TEST(stats().at("rate_limit_violations").as_int64() == 2);

  call_json(http("POST", "/_emu/reset", "", ""));
  faults(R"({"fail_next":[{"status":429,"retry_after":1}],"violation_grace_ms":0})");
  BOOST_TEST(at(5'000, http("POST", "/v1/messages", R"({"roomId":"r","text":"x"})")).status ==
             429u);
  BOOST_TEST(at(5'001, get()).status == 200u);
  BOOST_TEST(stats().at("rate_limit_violations").as_int64() == 1);
  faults(R"({"burst_429":{"count":1}})");  // no Retry-After: no window
  BOOST_TEST(at(7'000, get()).status == 429u);
  BOOST_TEST(at(7'500, get()).status == 200u);
  s = stats();
  BOOST_TEST(s.at("rate_limit_windows").as_int64() == 1);
  BOOST_TEST(s.at("rate_limit_violations").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(seeded_mention_reads_back_like_webex) {
  auto seeded = control("POST", "/_emu/messages",
                        R"({"personEmail":"Ann@Example.com","displayName":"Ann Smith",
                            "roomId":"g1","mentionBot":"Zpark","text":"show issues"})");
  std::string id(seeded.at("id").as_string());
  auto got = call_json(http("GET", "/v1/messages/" + id));
  BOOST_TEST(got.at("text").as_string() == "Zpark show issues");
  BOOST_TEST(got.at("html").as_string() ==
             "<p><spark-mention data-object-type=\"person\" data-object-id=\"" + bot_id() +
                 "\">Zpark</spark-mention> show issues</p>");
  BOOST_TEST(got.at("mentionedPeople") == json::array{json::value(bot_id())});
  BOOST_TEST(got.at("roomType").as_string() == "group");
  BOOST_TEST(got.at("personEmail").as_string() == "ann@example.com");
  BOOST_TEST(got.at("created").as_string() == "2023-11-14T22:13:20.000Z");
  auto person = call_json(http("GET", "/v1/people/" + std::string(got.at("personId").as_string())));
  BOOST_TEST(person.at("displayName").as_string() == "Ann Smith");
  BOOST_TEST(person.at("emails").at(0).as_string() == "ann@example.com");

  // A thread reply; explicit html and mentionedPeople are kept as given.
  auto reply = control("POST", "/_emu/messages",
                       R"({"personEmail":"ann@example.com","roomId":"g1","mentionBot":"Zp",
                           "text":"ack","html":"<p>custom</p>","mentionedPeople":["X"],
                           "parentId":")" +
                           id + "\"}");
  auto reply_got =
      call_json(http("GET", "/v1/messages/" + std::string(reply.at("id").as_string())));
  BOOST_TEST(reply_got.at("parentId").as_string() == id);
  BOOST_TEST(reply_got.at("text").as_string() == "Zp ack");
  BOOST_TEST(reply_got.at("html").as_string() == "<p>custom</p>");
  BOOST_TEST(reply_got.at("mentionedPeople") == json::array{"X"});
  // Without roomId: the author's direct room with the bot.
  auto direct =
      control("POST", "/_emu/messages", R"({"personEmail":"ann@example.com","text":"help"})");
  BOOST_TEST(direct.at("roomType").as_string() == "direct");
  BOOST_TEST(!direct.as_object().contains("html"));
}

BOOST_AUTO_TEST_CASE(seeding_is_strict) {
  for (auto body :
       {R"({"personEmail":"a@b.c","mentionbot":"Zpark"})", R"({"text":"x"})",
        R"({"personEmail":"nobody","text":"x"})", R"({"personEmail":"a@b.c","mentionBot":""})",
        R"({"personEmail":"a@b.c","mentionedPeople":"me"})",
        R"({"personEmail":"a@b.c","deliver":"no"})",
        R"({"personEmail":"a@b.c","roomId":"g","parentId":"nope"})"})
    control("POST", "/_emu/messages", body, 400);
  control("POST", "/_emu/attachment_actions", R"({"id":"A","deliver":true})", 400);
  control("POST", "/_emu/attachment_actions", R"({"id":"A","input":{}})", 400);
  control("POST", "/_emu/attachment_actions", R"({"personId":"P","personEmail":"a@b.c"})", 400);
  control("POST", "/_emu/attachment_actions", R"({"personId":"P","displayName":"Ann"})", 400);
}

BOOST_AUTO_TEST_CASE(the_presser_of_a_button_is_known_by_id_with_the_name_given) {
  auto a = call_json(http("POST", "/_emu/attachment_actions",
                          R"({"id":"A9","personEmail":"Ann@Example.com","displayName":"Ann Example"})", ""));
  auto person = call_json(http("GET", "/v1/people/" + std::string(a.at("personId").as_string())));
  BOOST_TEST(person.at("displayName").as_string() == "Ann Example");
  BOOST_TEST(person.at("emails").as_array().at(0).as_string() == "ann@example.com");
}

BOOST_AUTO_TEST_CASE(a_mention_is_delivered_signed_to_matching_webhooks) {
  auto mentions = webhook(R"({"name":"cmd","targetUrl":"http://127.0.0.1:9/hook?k=1",
      "resource":"messages","event":"created","filter":"mentionedPeople=me","secret":"s3cret"})");
  auto direct = webhook(R"({"name":"dm","targetUrl":"https://localhost:9/",
      "resource":"messages","event":"created","filter":"roomType=direct"})");
  webhook(R"({"name":"cards","targetUrl":"http://127.0.0.1:9/",
      "resource":"attachmentActions","event":"created"})");
  Outcome seeded = call(http("POST", "/_emu/messages",
                             R"({"personEmail":"ann@example.com","roomId":"g1",
                                 "mentionBot":"Zpark","text":"help"})",
                             ""));
  BOOST_TEST_REQUIRE(seeded.status == 200u);
  std::string id(parse(seeded.body).at("id").as_string());
  BOOST_TEST_REQUIRE(seeded.deliveries.size() == 1u);
  const Outbound& out = seeded.deliveries[0];
  BOOST_TEST(out.origin == "http://127.0.0.1:9");
  BOOST_TEST(out.target == "/hook?k=1");
  BOOST_TEST(out.signature == hmac_sha1_hex("s3cret", out.body));
  auto envelope = parse(out.body);
  BOOST_TEST(envelope.at("id").as_string() == mentions);
  BOOST_TEST(envelope.at("filter").as_string() == "mentionedPeople=me");
  BOOST_TEST(envelope.at("createdBy").as_string() == bot_id());
  BOOST_TEST(envelope.at("actorId") == envelope.at("data").at("personId"));
  BOOST_TEST(envelope.at("data").at("id").as_string() == id);
  BOOST_TEST(envelope.at("data").at("roomType").as_string() == "group");
  BOOST_TEST(envelope.at("data").at("personEmail").as_string() == "ann@example.com");
  BOOST_TEST(envelope.at("data").at("mentionedPeople") == json::array{json::value(bot_id())});
  BOOST_TEST(!envelope.at("data").as_object().contains("text"));

  auto log = deliveries();
  BOOST_TEST_REQUIRE(log.size() == 1u);
  BOOST_TEST(log[0].at("state").as_string() == "pending");
  BOOST_TEST(log[0].at("body").as_string() == out.body);  // the exact bytes
  BOOST_TEST(log[0].at("signature").as_string() == out.signature);
  BOOST_TEST(log[0].at("data_id").as_string() == id);
  BOOST_TEST(!log[0].at("from_bot").as_bool());
  emu.delivery_finished(out.seq, DeliveryResult{204, "", ""}, Now{99, {}});
  log = deliveries();
  BOOST_TEST(log[0].at("state").as_string() == "delivered");
  BOOST_TEST(log[0].at("status").as_int64() == 204);
  BOOST_TEST(log[0].at("done_ms").as_int64() == 99);

  // A group message without the mention reaches nobody; a direct one the unsigned webhook.
  BOOST_TEST(call(http("POST", "/_emu/messages",
                       R"({"personEmail":"ann@example.com","roomId":"g1","text":"chat"})", ""))
                 .deliveries.empty());
  Outcome dm = call(
      http("POST", "/_emu/messages", R"({"personEmail":"ann@example.com","text":"help"})", ""));
  BOOST_TEST_REQUIRE(dm.deliveries.size() == 1u);
  BOOST_TEST(dm.deliveries[0].signature.empty());
  BOOST_TEST(parse(dm.deliveries[0].body).at("id").as_string() == direct);
  BOOST_TEST(deliveries(1).at(0).at("signature").is_null());
  // "deliver": false stores only.
  BOOST_TEST(call(http("POST", "/_emu/messages",
                       R"({"personEmail":"ann@example.com","text":"x","deliver":false})", ""))
                 .deliveries.empty());
}

BOOST_AUTO_TEST_CASE(the_bots_own_messages_are_delivered_too_and_marked) {
  webhook(R"({"name":"all","targetUrl":"http://127.0.0.1:9/","resource":"messages",
              "event":"created","secret":"s"})");
  webhook(R"({"name":"mentions","targetUrl":"http://127.0.0.1:9/","resource":"messages",
              "event":"created","filter":"mentionedPeople=me","secret":"s"})");
  Outcome sent = call(http("POST", "/v1/messages", R"({"roomId":"g1","text":"alert"})"));
  BOOST_TEST_REQUIRE(sent.deliveries.size() == 1u);  // not to the mentions-only webhook
  auto log = deliveries();
  BOOST_TEST(log.at(0).at("from_bot").as_bool());
  BOOST_TEST(log.at(0).at("actor_id").as_string() == bot_id());
  BOOST_TEST(log.at(0).at("data_id").as_string() == sent.message_id);
  // A failed answer stores nothing and delivers nothing.
  faults(R"({"fail_next":[{"status":503}]})");
  BOOST_TEST(
      call(http("POST", "/v1/messages", R"({"roomId":"g1","text":"x"})")).deliveries.empty());
}

BOOST_AUTO_TEST_CASE(redelivery_sends_the_same_bytes_again) {
  auto hook = webhook(R"({"name":"cmd","targetUrl":"http://127.0.0.1:9/","resource":"messages",
                          "event":"created","secret":"s"})");
  webhook(R"({"name":"other","targetUrl":"http://127.0.0.1:9/o","resource":"messages",
              "event":"created"})");
  Outcome first = call(
      http("POST", "/_emu/messages", R"({"personEmail":"ann@example.com","text":"help"})", ""));
  std::string id(parse(first.body).at("id").as_string());
  BOOST_TEST_REQUIRE(first.deliveries.size() == 2u);
  Outcome again = call(http("POST", "/_emu/redeliver",
                            R"({"messageId":")" + id + R"(","webhookId":")" + hook + "\"}", ""));
  BOOST_TEST_REQUIRE(again.status == 200u);
  BOOST_TEST_REQUIRE(again.deliveries.size() == 1u);
  BOOST_TEST(again.deliveries[0].body == first.deliveries[0].body);
  BOOST_TEST(again.deliveries[0].signature == first.deliveries[0].signature);
  auto planned = parse(again.body).at("deliveries").as_array();
  BOOST_TEST_REQUIRE(planned.size() == 1u);
  BOOST_TEST(planned[0].at("redelivery").as_bool());
  BOOST_TEST(planned[0].at("seq").as_int64() == 3);
  BOOST_TEST(control("POST", "/_emu/redeliver", R"({"messageId":")" + id + "\"}")
                 .at("deliveries")
                 .as_array()
                 .size() == 2u);
  control("POST", "/_emu/redeliver", R"({"messageId":"nope"})", 404);
  control("POST", "/_emu/redeliver", R"({"messageId":")" + id + R"(","webhookId":"nope"})", 404);
  control("POST", "/_emu/redeliver", R"({})", 400);
  control("POST", "/_emu/redeliver", R"({"messageId":"a","attachmentActionId":"b"})", 400);
  control("POST", "/_emu/redeliver", R"({"message":"a"})", 400);
}

BOOST_AUTO_TEST_CASE(a_card_action_is_delivered_on_request) {
  webhook(R"({"name":"cards","targetUrl":"http://127.0.0.1:9/a","resource":"attachmentActions",
              "event":"created","secret":"k"})");
  std::string card = post_message(R"({"roomId":"g1","text":"card"})");
  auto quiet = call(
      http("POST", "/_emu/attachment_actions",
           R"({"id":"A0","messageId":")" + card + R"(","personEmail":"ann@example.com"})", ""));
  BOOST_TEST(quiet.deliveries.empty());  // deliver defaults to false
  Outcome pressed = call(http("POST", "/_emu/attachment_actions",
                              R"({"messageId":")" + card +
                                  R"(","personEmail":"Ann@example.com","inputs":{"ack":"yes"},
                                      "deliver":true})",
                              ""));
  BOOST_TEST_REQUIRE(pressed.status == 200u);
  auto stored = parse(pressed.body);
  std::string action_id(stored.at("id").as_string());
  BOOST_TEST(stored.at("type").as_string() == "submit");
  BOOST_TEST(stored.at("roomId").as_string() == "g1");  // from the card's message
  BOOST_TEST(!stored.as_object().contains("personEmail"));
  BOOST_TEST_REQUIRE(pressed.deliveries.size() == 1u);
  auto envelope = parse(pressed.deliveries[0].body);
  BOOST_TEST(envelope.at("resource").as_string() == "attachmentActions");
  BOOST_TEST(envelope.at("data").at("id").as_string() == action_id);
  BOOST_TEST(envelope.at("data").at("messageId").as_string() == card);
  BOOST_TEST(!envelope.at("data").as_object().contains("inputs"));
  BOOST_TEST(pressed.deliveries[0].signature == hmac_sha1_hex("k", pressed.deliveries[0].body));
  auto fetched = call_json(http("GET", "/v1/attachment/actions/" + action_id));
  BOOST_TEST(fetched.at("inputs").at("ack").as_string() == "yes");
  auto person =
      call_json(http("GET", "/v1/people/" + std::string(fetched.at("personId").as_string())));
  BOOST_TEST(person.at("emails").at(0).as_string() == "ann@example.com");
  BOOST_TEST(
      call(http("POST", "/_emu/redeliver", R"({"attachmentActionId":")" + action_id + "\"}", ""))
          .deliveries.size() == 1u);
}

BOOST_AUTO_TEST_CASE(failing_deliveries_disable_the_webhook_until_reactivated) {
  faults(R"({"disable_webhook_after_failures":2})");
  auto hook = webhook(R"({"name":"cmd","targetUrl":"http://127.0.0.1:9/","resource":"messages",
                          "event":"created"})");
  auto seed = [&] {
    return call(http("POST", "/_emu/messages", R"({"personEmail":"ann@example.com","text":"x"})",
                     ""))
        .deliveries;
  };
  auto a = seed(), b = seed();
  emu.delivery_finished(a.at(0).seq, DeliveryResult{0, "connection refused", ""}, Now{10, {}});
  BOOST_TEST(call_json(http("GET", "/v1/webhooks/" + hook)).at("status").as_string() == "active");
  emu.delivery_finished(b.at(0).seq, DeliveryResult{500, "", "oops"}, Now{20, {}});
  auto log = deliveries();
  BOOST_TEST(log.at(0).at("state").as_string() == "failed");
  BOOST_TEST(log.at(0).at("error").as_string() == "connection refused");
  BOOST_TEST(log.at(1).at("response").as_string() == "oops");
  BOOST_TEST(call_json(http("GET", "/v1/webhooks/" + hook)).at("status").as_string() == "inactive");
  BOOST_TEST(seed().empty());  // an inactive webhook gets nothing
  call_json(http("PUT", "/v1/webhooks/" + hook,
                 R"({"name":"cmd","targetUrl":"http://127.0.0.1:9/","status":"active"})"));
  auto c = seed();
  BOOST_TEST_REQUIRE(c.size() == 1u);
  emu.delivery_finished(c.at(0).seq, DeliveryResult{503, "", ""}, Now{30, {}});
  BOOST_TEST(call_json(http("GET", "/v1/webhooks/" + hook)).at("status").as_string() == "active");
  // The control API disables one directly, as Webex would after ~100 failures in 5 minutes.
  BOOST_TEST(control("POST", "/_emu/disable_webhook", R"({"id":")" + hook + "\"}")
                 .at("status")
                 .as_string() == "inactive");
  control("POST", "/_emu/disable_webhook", R"({"id":"nope"})", 404);
}

BOOST_AUTO_TEST_CASE(targets_off_loopback_are_logged_not_sent) {
  webhook(R"({"name":"far","targetUrl":"https://example.com/hook","resource":"messages",
              "event":"created"})");
  Outcome o = call(http("POST", "/_emu/messages", R"({"personEmail":"a@b.c","text":"x"})", ""));
  BOOST_TEST(o.deliveries.empty());
  auto log = deliveries();
  BOOST_TEST_REQUIRE(log.size() == 1u);
  BOOST_TEST(log[0].at("state").as_string() == "failed");
  BOOST_TEST(log[0].at("error").as_string().find("not loopback") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(webhook_filters_are_checked_when_created) {
  call_json(http("POST", "/v1/webhooks",
                 R"({"name":"z","targetUrl":"http://127.0.0.1:9/","resource":"messages",
                     "event":"created","filter":"mentionedPeople=me&hasFiles=true"})"),
            400);
  call_json(
      http("POST", "/v1/webhooks",
           R"({"name":"z","targetUrl":"127.0.0.1:9/","resource":"messages","event":"created"})"),
      400);
}

BOOST_AUTO_TEST_CASE(route_faults_answer_any_call) {
  std::string id(control("POST", "/_emu/messages", R"({"personEmail":"a@b.c","text":"x"})")
                     .at("id")
                     .as_string());
  faults(R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"status":429,"retry_after":3},
            {"reset":true}],"GET /v1/people/{id}":[{"status":503}]}})");
  BOOST_TEST(call(http("GET", "/v1/people/me")).status == 503u);
  BOOST_TEST(call(http("GET", "/v1/people/me")).status == 200u);
  Outcome limited = call(http("GET", "/v1/messages/" + id));
  BOOST_TEST(limited.status == 429u);
  BOOST_TEST(header(limited, "Retry-After") == "3");
  BOOST_TEST((call(http("GET", "/v1/messages/" + id)).disposition == Disposition::reset));
  BOOST_TEST(call(http("GET", "/v1/messages/" + id)).status == 200u);
  auto log = call_json(http("GET", "/_emu/requests", "", "")).at("requests").as_array();
  BOOST_TEST(log.at(3).at("outcome").as_string() == "reset");
  BOOST_TEST(log.at(3).at("status").as_int64() == 0);
  call_json(http("POST", "/_emu/faults", R"({"fail_next_by_route":{"GET /v1/nothing":[]}})", ""),
            400);
}

BOOST_AUTO_TEST_CASE(reset_forgets_deliveries_but_not_their_numbers) {
  webhook(
      R"({"name":"z","targetUrl":"http://127.0.0.1:9/","resource":"messages","event":"created"})");
  auto before = call(http("POST", "/_emu/messages", R"({"personEmail":"a@b.c","text":"x"})", ""));
  control("POST", "/_emu/reset");
  BOOST_TEST(deliveries().empty());
  emu.delivery_finished(before.deliveries.at(0).seq, DeliveryResult{200, "", ""}, Now{});
  webhook(
      R"({"name":"z","targetUrl":"http://127.0.0.1:9/","resource":"messages","event":"created"})");
  auto after = call(http("POST", "/_emu/messages", R"({"personEmail":"a@b.c","text":"x"})", ""));
  BOOST_TEST(after.deliveries.at(0).seq > before.deliveries.at(0).seq);
  BOOST_TEST(deliveries().at(0).at("state").as_string() == "pending");
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

// ---- file uploads (multipart/form-data), as Zpark posts graphs --------------------------------

namespace {

const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);

HttpIn upload(const std::vector<std::pair<std::string, std::string>>& fields, const std::string& bytes,
              std::string file_field = "files") {
  const std::string b = "zpark-test-boundary";
  std::string body;
  for (const auto& [k, v] : fields)
    body += "--" + b + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  body += "--" + b + "\r\nContent-Disposition: form-data; name=\"" + file_field +
          "\"; filename=\"db01-cpu.png\"\r\nContent-Type: image/png\r\n\r\n" + bytes + "\r\n--" + b + "--\r\n";
  HttpIn in = http("POST", "/v1/messages", std::move(body));
  in.content_type = "multipart/form-data; boundary=" + b;
  return in;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(file_uploads)

BOOST_AUTO_TEST_CASE(multipart_parser_reads_fields_and_the_file_bytes_exactly) {
  const std::string bytes = kPng + std::string("\r\n--zpark-not-the-boundary\r\n\0tail", 32);
  auto in = upload({{"roomId", "r1"}, {"markdown", "**graph**"}}, bytes);
  auto form = parse_multipart(in.content_type, in.body);
  BOOST_TEST_REQUIRE(form.has_value());
  BOOST_TEST(form->fields.size() == 2u);
  BOOST_TEST(form->fields[1].second == "**graph**");
  BOOST_TEST_REQUIRE(form->files.size() == 1u);
  BOOST_TEST(form->files[0].filename == "db01-cpu.png");
  BOOST_TEST(form->files[0].content_type == "image/png");
  BOOST_TEST((form->files[0].bytes == bytes));
  BOOST_TEST(hex_head(bytes, 8) == "89504e470d0a1a0a");
  BOOST_TEST(multipart_boundary("multipart/form-data; boundary=\"a b\"") == "a b");
  BOOST_TEST(!parse_multipart("multipart/form-data; boundary=x", "--x\r\nno blank line").has_value());
  BOOST_TEST(!parse_multipart("application/json", "{}").has_value());
}

BOOST_FIXTURE_TEST_CASE(an_uploaded_file_is_stored_in_the_thread_and_shown, Fixture) {
  const std::string root = post_message(R"({"roomId":"room-1","markdown":"problem"})");
  auto m = call_json(upload({{"roomId", "room-1"}, {"parentId", root}, {"markdown", "cpu"}}, kPng));
  BOOST_TEST(m.at("parentId").as_string() == root);
  BOOST_TEST(m.at("files").as_array().size() == 1u);
  auto files = control("GET", "/_emu/files").at("files").as_array();
  BOOST_TEST_REQUIRE(files.size() == 1u);
  BOOST_TEST(files[0].at("parentId").as_string() == root);
  BOOST_TEST(files[0].at("name").as_string() == "db01-cpu.png");
  BOOST_TEST(files[0].at("contentType").as_string() == "image/png");
  BOOST_TEST(files[0].at("size").as_int64() == 16);
  BOOST_TEST(std::string(files[0].at("head").as_string()).starts_with("89504e470d0a1a0a"));
  BOOST_TEST(files[0].at("markdown").as_string() == "cpu");
  // The message listing shows it too, and a message with a file cannot be edited.
  auto all = control("GET", "/_emu/messages").at("messages").as_array();
  BOOST_TEST(all.back().at("file").at("size").as_int64() == 16);
  const std::string id(m.at("id").as_string());
  call_json(http("PUT", "/v1/messages/" + id, R"({"roomId":")" + std::string(m.at("roomId").as_string()) +
                                                   R"(","markdown":"edited"})"),
            400);
}

BOOST_FIXTURE_TEST_CASE(a_file_alone_needs_no_text_but_a_target_and_one_files_part, Fixture) {
  call_json(upload({{"toPersonEmail", "ann@example.com"}}, kPng));
  call_json(upload({}, kPng), 400);                                        // no target
  call_json(upload({{"roomId", "r1"}}, kPng, "file"), 400);                 // wrong part name
  call_json(upload({{"roomId", "r1"}}, ""), 400);                           // empty file
  call_json(upload({{"roomId", "r1"}, {"parentId", "nope"}}, kPng), 400);  // unknown thread
}

BOOST_AUTO_TEST_SUITE_END()
