#pragma once
// Per-layer statistics (the layerwise monitor): 202 ingestion that creates
// unknown runs, the list of steps and layers, one snapshot (nearest earlier
// step), and a layers x steps heatmap of one statistic.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::api {

template <class Store>
http::response post_layerwise(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    layer_snapshot snap = json_body::parse_layerwise(r.body(), now_seconds(), r.limits());
    if (!s.store().get_run(snap.run_id)) {
        new_run nr;
        nr.name = snap.run_id;
        nr.id = snap.run_id;
        s.run_created(s.store().create_run(nr));
    }
    s.store().append_layers(snap);
    s.layers_appended(snap.run_id, snap.step);
    std::string out;
    json_out::json_writer(out)
        .begin_object()
        .field("status", "accepted")
        .field("run_id", snap.run_id)
        .field("step", static_cast<std::int64_t>(snap.step))
        .field("layers", static_cast<std::uint64_t>(snap.layers.size()))
        .end_object();
    return json_response(std::move(out), 202);
}

inline void add_names(std::vector<std::string>& names, const layer_snapshot& snap) {
    for (const auto& l : snap.layers)
        if (std::find(names.begin(), names.end(), l.name) == names.end()) names.push_back(l.name);
}

template <class Store>
http::response layer_index(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    auto steps = s.store().layer_steps(run.id);
    std::vector<std::string> names;
    if (!steps.empty()) {
        if (auto first = s.store().get_layers(run.id, steps.front())) add_names(names, *first);
        if (auto last = s.store().get_layers(run.id, steps.back())) add_names(names, *last);
    }
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("steps").begin_array();
    for (auto st : steps) w.value(static_cast<std::int64_t>(st));
    w.end_array().key("layers");
    json_out::write_strings(w, names);
    w.end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response layer_snapshot_at(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    std::string_view raw = r.param("step");
    step_t step = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), step);
    if (ec != std::errc{} || end != raw.data() + raw.size() || step < 0)
        throw malformed(fmt::format("step must be a non-negative integer, got '{}'", raw));
    auto snap = s.store().get_layers(run.id, step);
    if (!snap) throw not_found(fmt::format("run '{}' has no layer statistics at or before step {}", run.id, step));
    std::string out;
    json_out::json_writer w(out);
    json_out::write_layer_snapshot(w, *snap);
    return json_response(std::move(out));
}

// "gradients.std" -> a reader of that number from a layer, or a 400.
inline auto parse_layer_stat(std::string_view stat) {
    auto dot = stat.find('.');
    std::string_view group = stat.substr(0, dot), field = dot == std::string_view::npos ? "" : stat.substr(dot + 1);
    using member = std::optional<tensor_stats> layer_stat::*;
    member m = group == "activations"  ? &layer_stat::activations
               : group == "gradients"  ? &layer_stat::gradients
               : group == "parameters" ? &layer_stat::parameters
                                       : nullptr;
    using number = double tensor_stats::*;
    number n = field == "mean"  ? &tensor_stats::mean
               : field == "std" ? &tensor_stats::std
               : field == "min" ? &tensor_stats::min
               : field == "max" ? &tensor_stats::max
                                : nullptr;
    if (!m || !n)
        throw malformed(fmt::format(
            "query parameter 'stat' must be <activations|gradients|parameters>.<mean|std|min|max>, got '{}'", stat));
    return [m, n](const layer_stat& l) -> std::optional<double> {
        const auto& t = l.*m;
        if (!t) return std::nullopt;
        return (*t).*n;
    };
}

// At most `max_steps`, evenly spread, always keeping the first and the last.
inline std::vector<step_t> spread_steps(const std::vector<step_t>& steps, std::size_t max_steps) {
    if (steps.size() <= max_steps) return steps;
    std::vector<step_t> out;
    out.reserve(max_steps);
    for (std::size_t i = 0; i < max_steps; ++i) {
        std::size_t idx = max_steps == 1 ? steps.size() - 1 : i * (steps.size() - 1) / (max_steps - 1);
        if (out.empty() || out.back() != steps[idx]) out.push_back(steps[idx]);
    }
    return out;
}

template <class Store>
http::response layer_heatmap(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    std::string_view stat = r.query.get_or("stat", "gradients.std");
    auto read = parse_layer_stat(stat);
    auto max_steps = r.int_query<std::size_t>("max_steps", 1, 100'000).value_or(200);
    auto steps = spread_steps(s.store().layer_steps(run.id), max_steps);

    std::vector<layer_snapshot> snaps;
    std::vector<std::string> names;
    snaps.reserve(steps.size());
    for (auto st : steps) {
        auto snap = s.store().get_layers(run.id, st);
        if (!snap) snap = layer_snapshot{run.id, st, 0, {}};
        add_names(names, *snap);
        snaps.push_back(std::move(*snap));
    }

    std::string out;
    json_out::json_writer w(out);
    w.begin_object().field("stat", stat).key("steps").begin_array();
    for (auto st : steps) w.value(static_cast<std::int64_t>(st));
    w.end_array().key("layers");
    json_out::write_strings(w, names);
    w.key("values").begin_array();
    for (const auto& name : names) {
        w.begin_array();
        for (const auto& snap : snaps) {
            auto it =
                std::find_if(snap.layers.begin(), snap.layers.end(), [&](const auto& l) { return l.name == name; });
            std::optional<double> v = it == snap.layers.end() ? std::nullopt : read(*it);
            if (v) w.value(*v);
            else w.null();
        }
        w.end_array();
    }
    w.end_array().end_object();
    return json_response(std::move(out));
}

template <class Store>
void add_layer_routes(route_table<Store>& t) {
    t.post("/api/v1/metrics/layerwise", post_layerwise<Store>)
        .get("/api/runs/{run_id}/layers", layer_index<Store>)
        .get("/api/runs/{run_id}/layers/heatmap", layer_heatmap<Store>, accepts{"stat", "max_steps"})
        .get("/api/runs/{run_id}/layers/{step}", layer_snapshot_at<Store>);
}

}  // namespace tmon::api
