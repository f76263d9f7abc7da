#pragma once
// The event log, per run or across runs, read incrementally with ?after=ID;
// a trainer adds its own events, stored once per client id.
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"
#include "tmon/server/trainer_body.hpp"

namespace tmon::api {

template <class Store>
http::response events_json(detail::server_state<Store>& s, const api_request& r, std::string run_id) {
    event_query q;
    q.run_id = std::move(run_id);
    q.after_id = r.int_query<std::int64_t>("after", 0).value_or(0);
    q.limit = r.int_query<std::size_t>("limit", 1, 100'000).value_or(200);
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("events").begin_array();
    for (const auto& e : s.store().list_events(q)) json_out::write_event(w, e);
    w.end_array().end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response run_events(detail::server_state<Store>& s, const api_request& r) {
    return events_json(s, r, s.require_run(r.param("run_id")).id);
}

template <class Store>
http::response all_events(detail::server_state<Store>& s, const api_request& r) {
    return events_json(s, r, {});
}

// A replayed client id returns the stored event and announces nothing new.
template <class Store>
http::response post_run_event(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    event e = json_body::parse_trainer_event(r.body(), std::string(r.param("run_id")), r.limits());
    s.require_run(e.run_id);
    event stored = s.store().append_event(e);
    s.publish_new_events();
    std::string out;
    json_out::json_writer w(out);
    json_out::write_event(w, stored);
    return json_response(std::move(out));
}

template <class Store>
void add_event_routes(route_table<Store>& t) {
    t.get("/api/runs/{run_id}/events", run_events<Store>, accepts{"after", "limit"})
        .post("/api/runs/{run_id}/events", post_run_event<Store>)
        .get("/api/events", all_events<Store>, accepts{"after", "limit"});
}

}  // namespace tmon::api
