// plan_repair: what `zpark webhook repair` and the self-heal check do for each webhook list.
#define BOOST_TEST_MODULE webhook_repair
#include <boost/test/unit_test.hpp>

#include "spark/webhook_repair.hpp"

using namespace zpark::spark;
using Kind = RepairStep::Kind;

namespace {

WebhookSpec want() {
  WebhookSpec w;
  w.target_url = "https://zpark.example.com/api/v1/webhook";
  w.secret = "s";
  return w;
}

WebhookInfo hook(std::string id, std::string target, std::string status = "active", bool secret_ok = true,
                 std::string name = "Zpark incoming webhook", std::string resource = "messages") {
  WebhookInfo h;
  h.id = std::move(id);
  h.target_url = std::move(target);
  h.status = std::move(status);
  h.name = std::move(name);
  h.resource = std::move(resource);
  h.event = "created";
  h.has_secret = true;
  h.secret_matches = secret_ok;
  return h;
}

const std::string kOurs = "https://zpark.example.com/api/v1/webhook";

}  // namespace

BOOST_AUTO_TEST_CASE(nothing_to_do_when_one_active_webhook_of_ours_has_our_secret) {
  BOOST_TEST(plan_repair({hook("A", kOurs)}, want()).empty());
}

BOOST_AUTO_TEST_CASE(none_of_ours_is_created_and_strangers_are_left_alone) {
  auto steps = plan_repair({hook("X", "https://other/hook", "active", false, "Someone else's")}, want());
  BOOST_REQUIRE(steps.size() == 1u);
  BOOST_TEST((steps[0].kind == Kind::create));
}

BOOST_AUTO_TEST_CASE(a_disabled_webhook_is_reactivated) {
  auto steps = plan_repair({hook("A", kOurs, "inactive")}, want());
  BOOST_REQUIRE(steps.size() == 1u);
  BOOST_TEST((steps[0].kind == Kind::update));
  BOOST_TEST(steps[0].id == "A");
  BOOST_TEST(steps[0].reason == "was inactive");
}

BOOST_AUTO_TEST_CASE(a_changed_server_url_or_secret_is_fixed_in_place) {
  auto steps = plan_repair({hook("A", "https://old.example.com/zpark/api/v1/webhook", "active", false)}, want());
  BOOST_REQUIRE(steps.size() == 1u);
  BOOST_TEST((steps[0].kind == Kind::update));
  BOOST_TEST(steps[0].reason == "target was https://old.example.com/zpark/api/v1/webhook, secret differs");
}

BOOST_AUTO_TEST_CASE(duplicates_are_removed_keeping_the_exact_active_one) {
  auto steps = plan_repair({hook("OLD", "https://old/api/v1/webhook", "active"), hook("B", kOurs, "inactive"),
                            hook("C", kOurs, "active"), hook("CARDS", kOurs, "active", true, "Zpark cards", "attachmentActions")},
                           want());
  BOOST_REQUIRE(steps.size() == 2u);
  for (auto& s : steps) {
    BOOST_TEST((s.kind == Kind::remove));
    BOOST_TEST(s.reason == "duplicate of C");
  }
  BOOST_TEST(steps[0].id == "OLD");
  BOOST_TEST(steps[1].id == "B");
}
