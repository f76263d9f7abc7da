#pragma once
// Heartbeats: a trainer with nothing else to send says it is alive. Any other
// write to the run counts too (route_table.hpp); see server/liveness.hpp.
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/trainer_body.hpp"

namespace tmon::api {

template <class Store>
http::response heartbeat(detail::server_state<Store>& s, const api_request& r) {
    if (!r.body().empty()) require_json_body(r);
    trainer_identity who = json_body::parse_heartbeat(r.body(), r.who, r.limits());
    run_info run = s.require_run(r.param("run_id"));
    s.trainer_seen(run.id, who);
    r.liveness_recorded = true;
    run_liveness live = s.liveness_of(run);
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().field("run_id", run.id).field("stale", live.stale && run.status == run_status::running);
    json_out::wire_style::time(w, "last_seen", live.last_seen);
    w.end_object();
    return json_response(std::move(out));
}

template <class Store>
void add_liveness_routes(route_table<Store>& t) {
    t.post("/api/runs/{run_id}/heartbeat", heartbeat<Store>);
}

}  // namespace tmon::api
