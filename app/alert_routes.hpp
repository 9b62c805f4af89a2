#pragma once
// POST /api/v1/alert (Zabbix → outbox) and GET /api/v1/tasks/{taskid}.
#include "app/api.hpp"
#include "tasks/relay.hpp"

namespace zpark::app {

void add_alert_routes(Api& api, tasks::Relay& relay, std::size_t body_limit);

}  // namespace zpark::app
