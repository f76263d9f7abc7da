#pragma once
// Health, version, and the machine's samples (CPU, memory, GPUs): the
// server's own under /api/system, a remote trainer's under its run.
#include <string>
#include <vector>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"
#include "tmon/server/trainer_body.hpp"
#include "tmon/version.hpp"

namespace tmon::api {

template <class Store>
http::response health(detail::server_state<Store>& s, const api_request&) {
    std::string out;
    json_out::json_writer(out)
        .begin_object()
        .field("status", "ok")
        .field("version", version_string)
        .field("storage", s.storage_name())
        .field("uptime_s", now_seconds() - s.started_at())
        .end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response version(detail::server_state<Store>&, const api_request&) {
    std::string out;
    json_out::json_writer(out)
        .begin_object()
        .field("version", version_string)
        .field("api_version", api_version)
        .end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response system_status(detail::server_state<Store>& s, const api_request&) {
    auto latest = s.store().system_history(system_query{.limit = 1});
    if (latest.empty()) throw http_error(404, "no system sample has been taken yet", "no_samples");
    std::string out;
    json_out::json_writer w(out);
    json_out::write_system_sample(w, latest.back());
    return json_response(std::move(out));
}

// The window both history routes take: time_min, time_max, limit (1000 by default).
inline system_query history_window(const api_request& r) {
    system_query q;
    if (auto v = r.number_query("time_min")) q.time_min = *v;
    if (auto v = r.number_query("time_max")) q.time_max = *v;
    q.limit = r.int_query<std::size_t>("limit", 1, 1'000'000).value_or(1000);
    return q;
}

inline http::response samples_response(const std::vector<system_sample>& samples) {
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("samples").begin_array();
    for (const auto& x : samples) json_out::write_system_sample(w, x);
    w.end_array().end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response system_history(detail::server_state<Store>& s, const api_request& r) {
    return samples_response(s.store().system_history(history_window(r)));
}

// Each sample is stored (a replay of its host, rank and time replaces it),
// counts as its host's sign of life, and goes to the run's WS subscribers.
template <class Store>
http::response post_run_system(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    std::string run_id(r.param("run_id"));
    auto samples = json_body::parse_system_samples(r.body(), run_id, r.who, r.limits());
    s.require_run(run_id);
    for (const auto& x : samples) s.store().append_system(x);
    for (const auto& x : samples) {
        s.trainer_seen(run_id, trainer_identity{x.host, x.rank});
        s.run_system_sampled(x);
    }
    if (samples.empty()) s.trainer_seen(run_id, r.who);
    r.liveness_recorded = true;
    std::string out;
    json_out::json_writer(out)
        .begin_object()
        .field("accepted", static_cast<std::uint64_t>(samples.size()))
        .end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response run_system_history(detail::server_state<Store>& s, const api_request& r) {
    system_query q = history_window(r);
    q.run_id = s.require_run(r.param("run_id")).id;
    if (auto h = r.query.get("host"); h && !h->empty())
        q.host = checked_host(*h, r.limits().host_bytes, "query parameter 'host'", 400);
    q.rank = r.int_query<int>("rank", 0, max_trainer_rank);
    return samples_response(s.store().system_history(q));
}

template <class Store>
void add_system_routes(route_table<Store>& t) {
    t.get_inline("/health", health<Store>)
        .get_inline("/api/health", health<Store>)
        .get_inline("/api/version", version<Store>)
        .get("/api/system/status", system_status<Store>)
        .get("/api/system/history", system_history<Store>, accepts{"time_min", "time_max", "limit"})
        .post("/api/runs/{run_id}/system", post_run_system<Store>)
        .get("/api/runs/{run_id}/system", run_system_history<Store>,
             accepts{"host", "rank", "time_min", "time_max", "limit"});
}

}  // namespace tmon::api
