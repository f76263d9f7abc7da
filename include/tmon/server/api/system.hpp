#pragma once
// Health, version, and the machine's samples (CPU, memory, GPUs).
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"
#include "tmon/version.hpp"

namespace tmon::api {

template <class Store>
http::response health(server_state<Store>& s, const api_request&) {
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
http::response version(server_state<Store>&, const api_request&) {
    std::string out;
    json_out::json_writer(out).begin_object().field("version", version_string).field("api_version", api_version).end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response system_status(server_state<Store>& s, const api_request&) {
    auto latest = s.store().system_history(system_query{.limit = 1});
    if (latest.empty()) throw http_error(404, "no system sample has been taken yet", "no_samples");
    std::string out;
    json_out::json_writer w(out);
    json_out::write_system_sample(w, latest.back());
    return json_response(std::move(out));
}

template <class Store>
http::response system_history(server_state<Store>& s, const api_request& r) {
    system_query q;
    if (auto v = r.number_query("time_min")) q.time_min = *v;
    if (auto v = r.number_query("time_max")) q.time_max = *v;
    q.limit = r.int_query<std::size_t>("limit", 1, 1'000'000).value_or(1000);
    auto samples = s.store().system_history(q);
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("samples").begin_array();
    for (const auto& x : samples) json_out::write_system_sample(w, x);
    w.end_array().end_object();
    return json_response(std::move(out));
}

template <class Store>
void add_system_routes(route_table<Store>& t) {
    t.get_inline("/health", health<Store>)
        .get_inline("/api/health", health<Store>)
        .get_inline("/api/version", version<Store>)
        .get("/api/system/status", system_status<Store>)
        .get("/api/system/history", system_history<Store>);
}

}  // namespace tmon::api
