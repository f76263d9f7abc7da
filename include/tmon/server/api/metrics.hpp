#pragma once
// Scalar metrics: batch ingestion (acknowledged after the store returned),
// range queries with server-side downsampling, the seed's row shape, the
// latest values and the key list.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::api {

template <class Store>
http::response post_metrics(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    std::vector<metric_point> points = json_body::parse_metrics(r.body(), now_seconds(), r.limits());
    std::size_t accepted = points.size();
    s.append_metrics(r.param("run_id"), std::move(points));
    std::string out;
    json_out::json_writer(out).begin_object().field("accepted", static_cast<std::uint64_t>(accepted)).end_object();
    return json_response(std::move(out));
}

inline std::vector<std::string> split_keys(std::string_view csv) {
    std::vector<std::string> out;
    while (!csv.empty()) {
        auto comma = csv.find(',');
        auto k = csv.substr(0, comma);
        if (!k.empty()) out.emplace_back(k);
        if (comma == std::string_view::npos) break;
        csv.remove_prefix(comma + 1);
    }
    return out;
}

inline metric_query parse_metric_query(const api_request& r) {
    metric_query q;
    q.run_id = std::string(r.param("run_id"));
    if (auto v = r.int_query<step_t>("step_min")) q.step_min = *v;
    if (auto v = r.int_query<step_t>("step_max")) q.step_max = *v;
    if (auto v = r.number_query("time_min")) q.time_min = *v;
    if (auto v = r.number_query("time_max")) q.time_max = *v;
    q.max_points = r.int_query<std::size_t>("max_points", 0, 10'000'000).value_or(0);
    q.last =
        r.int_query<std::size_t>("limit", 1, 100'000'000).value_or(0);  // the newest N per key (training-jobs-api.md)
    std::string_view method = r.query.get_or("method", "lttb");
    if (method == "lttb") q.method = downsample_method::lttb;
    else if (method == "minmax") q.method = downsample_method::minmax;
    else throw malformed(fmt::format("query parameter 'method' must be lttb or minmax, got '{}'", method));
    return q;
}

template <class Store>
std::vector<metric_series> query_series(detail::server_state<Store>& s, const api_request& r, metric_query q) {
    auto keys_param = r.query.get("keys");
    std::vector<std::string> keys = keys_param ? split_keys(*keys_param) : s.store().metric_keys(q.run_id);
    std::vector<metric_series> out;
    out.reserve(keys.size());
    for (auto& k : keys) {
        q.key = k;
        auto series = s.store().query_metrics(q);
        series.key = std::move(k);
        out.push_back(std::move(series));
    }
    return out;
}

// The seed's shape: one row per step with every key logged at it.
inline std::string rows_json(std::string_view run_id, const std::vector<metric_series>& all) {
    struct row {
        double time = 0;
        std::vector<std::pair<const std::string*, double>> values;
    };
    std::map<step_t, row> rows;
    for (const auto& s : all)
        for (const auto& p : s.points) {
            auto& rw = rows[p.step];
            rw.time = std::max(rw.time, p.time);
            rw.values.emplace_back(&s.key, p.value);
        }
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().field("run_id", run_id).key("metrics").begin_array();
    for (const auto& [step, rw] : rows) {
        w.begin_object().field("step", static_cast<std::int64_t>(step)).field("timestamp", rw.time);
        w.key("metrics").begin_object();
        for (const auto& [k, v] : rw.values) w.field(*k, v);
        w.end_object().end_object();
    }
    w.end_array().end_object();
    return out;
}

template <class Store>
http::response get_metrics(detail::server_state<Store>& s, const api_request& r) {
    metric_query q = parse_metric_query(r);
    std::string_view format = r.query.get_or("format", "series");
    if (format != "series" && format != "rows")
        throw malformed(fmt::format("query parameter 'format' must be series or rows, got '{}'", format));
    q.run_id = s.require_run(q.run_id).id;
    auto all = query_series(s, r, q);
    if (format == "rows") return json_response(rows_json(q.run_id, all));
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().field("run_id", q.run_id).key("series").begin_object();
    for (const auto& series : all) json_out::write_series(w.key(series.key), series);
    w.end_object().end_object();
    return json_response(std::move(out));
}

inline std::string latest_json(std::string_view run_id, const std::vector<latest_metric>& latest) {
    std::string out;
    out.reserve(128 + latest.size() * 96);
    json_out::json_writer w(out);
    w.begin_object().field("run_id", run_id);
    if (latest.empty()) {
        w.key("step").null().key("timestamp").null();
    } else {
        auto newest = std::max_element(latest.begin(), latest.end(), [](const auto& a, const auto& b) {
            return a.step < b.step || (a.step == b.step && a.time < b.time);
        });
        w.field("step", static_cast<std::int64_t>(newest->step)).field("timestamp", newest->time);
    }
    w.key("metrics").begin_object();
    for (const auto& m : latest) w.field(m.key, m.value);
    w.end_object().key("values").begin_object();
    for (const auto& m : latest) {
        w.key(m.key)
            .begin_object()
            .field("step", static_cast<std::int64_t>(m.step))
            .field("value", m.value)
            .field("timestamp", m.time)
            .end_object();
    }
    w.end_object().end_object();
    return out;
}

// On the work pool: reads the store and seeds the cache for the io thread.
template <class Store>
http::response latest_metrics(detail::server_state<Store>& s, const api_request& r) {
    return json_response(latest_json(r.param("run_id"), s.read_latest(r.param("run_id"))));
}

// On the io thread: answers from the cache, or passes to latest_metrics.
template <class Store>
std::optional<http::response> cached_latest_metrics(detail::server_state<Store>& s, const api_request& r) {
    std::optional<http::response> out;
    s.cached_latest(r.param("run_id"), [&](const std::vector<latest_metric>& latest) {
        out = json_response(latest_json(r.param("run_id"), latest));
    });
    return out;
}

template <class Store>
http::response metric_keys(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("keys");
    json_out::write_strings(w, s.store().metric_keys(run.id));
    w.end_object();
    return json_response(std::move(out));
}

template <class Store>
void add_metric_routes(route_table<Store>& t) {
    t.post("/api/runs/{run_id}/metrics", post_metrics<Store>)
        .get("/api/runs/{run_id}/metrics", get_metrics<Store>,
             accepts{"keys", "step_min", "step_max", "time_min", "time_max", "max_points", "limit", "method", "format"})
        .get("/api/runs/{run_id}/metrics/latest", latest_metrics<Store>, cached_latest_metrics<Store>)
        .get("/api/runs/{run_id}/metrics/keys", metric_keys<Store>);
}

}  // namespace tmon::api
