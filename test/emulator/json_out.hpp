// JSON shapes of the stored objects, as Webex returns them.
#pragma once
#include <boost/json/object.hpp>

#include "store.hpp"

namespace emu {

boost::json::object to_json(const Person& p);
boost::json::object to_json(const Room& r);
boost::json::object to_json(const Webhook& w);
// The Webex view; with_emulator_fields adds edits/deleted/seq for /_emu/messages.
boost::json::object to_json(const Message& m, bool with_emulator_fields = false);

}  // namespace emu
