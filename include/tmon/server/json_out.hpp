#pragma once
// Every object of the wire contract (docs/API.md) written with json_writer.
// write_* append to an open writer (so objects nest); *_json return text.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/json_write.hpp"

namespace tmon::json_out {

using detail::json_writer;

inline void write_iso_or_null(json_writer& w, std::string_view k, std::optional<double> t) {
    w.key(k);
    if (t && *t > 0) w.value(iso8601(*t));
    else w.null();
}

inline void write_optional_step(json_writer& w, std::string_view k, std::optional<step_t> s) {
    w.key(k);
    if (s) w.value(static_cast<std::int64_t>(*s));
    else w.null();
}

inline void write_strings(json_writer& w, std::span<const std::string> xs) {
    w.begin_array();
    for (const auto& x : xs) w.value(x);
    w.end_array();
}

inline void write_run(json_writer& w, const run_info& r) {
    w.begin_object()
        .field("id", r.id)
        .field("name", r.name)
        .field("status", to_string(r.status))
        .raw_field("config", r.config_json.empty() ? "{}" : r.config_json);
    w.key("tags");
    write_strings(w, r.tags);
    w.field("notes", r.notes);
    write_iso_or_null(w, "start_time", r.start_time);
    write_iso_or_null(w, "end_time", r.end_time);
    write_iso_or_null(w, "created_at", r.created_at);
    write_iso_or_null(w, "updated_at", r.updated_at);
    write_optional_step(w, "total_steps", r.total_steps);
    write_optional_step(w, "last_step", r.last_step);
    w.key("progress");
    if (r.total_steps && *r.total_steps > 0)
        w.value(static_cast<double>(r.last_step.value_or(0)) / static_cast<double>(*r.total_steps));
    else
        w.null();
    w.end_object();
}

inline void write_checkpoint(json_writer& w, const checkpoint_info& c) {
    w.begin_object().field("id", c.id).field("run_id", c.run_id).field("filepath", c.filepath);
    write_optional_step(w, "step", c.step);
    w.raw_field("metrics", c.metrics_json.empty() ? "{}" : c.metrics_json)
        .raw_field("metadata", c.metadata_json.empty() ? "{}" : c.metadata_json)
        .field("is_best", c.is_best);
    write_iso_or_null(w, "created_at", c.created_at);
    w.end_object();
}

inline void write_gpu(json_writer& w, const gpu_sample& g) {
    w.begin_object()
        .field("index", g.index)
        .field("name", g.name)
        .field("utilization", g.utilization)
        .field("memory_used", g.memory_used)
        .field("memory_total", g.memory_total)
        .field("temperature", g.temperature)
        .field("power", g.power)
        .end_object();
}

// Fields only, so system_update can put them beside "type".
inline void write_system_fields(json_writer& w, const system_sample& s) {
    w.field("timestamp", s.time)
        .field("cpu_percent", s.cpu_percent)
        .field("memory_percent", s.memory_percent)
        .field("memory_used", s.memory_used)
        .field("memory_total", s.memory_total)
        .field("process_rss", s.process_rss);
    w.key("gpus").begin_array();
    for (const auto& g : s.gpus) write_gpu(w, g);
    w.end_array();
    if (!s.gpus.empty()) {
        const auto& g = s.gpus.front();
        w.field("gpu_utilization", g.utilization)
            .field("gpu_memory_used", g.memory_used)
            .field("gpu_memory_total", g.memory_total);
    }
}

inline void write_system_sample(json_writer& w, const system_sample& s) {
    w.begin_object();
    write_system_fields(w, s);
    w.end_object();
}

inline void write_event(json_writer& w, const event& e) {
    w.begin_object().field("id", static_cast<std::int64_t>(e.id)).field("run_id", e.run_id);
    write_iso_or_null(w, "timestamp", e.time);
    w.field("type", e.type).field("message", e.message).raw_field("data", e.data_json.empty() ? "{}" : e.data_json);
    w.end_object();
}

inline void write_command(json_writer& w, const command& c) {
    w.begin_object()
        .field("id", static_cast<std::int64_t>(c.id))
        .field("type", c.type)
        .field("run_id", c.run_id)
        .field("checkpoint_id", c.checkpoint_id)
        .field("filepath", c.filepath)
        .raw_field("payload", c.payload_json.empty() ? "{}" : c.payload_json);
    write_iso_or_null(w, "created_at", c.created_at);
    w.end_object();
}

inline void write_tensor_stats(json_writer& w, const tensor_stats& t) {
    w.begin_object().field("mean", t.mean).field("std", t.std).field("min", t.min).field("max", t.max);
    if (!t.histogram.empty()) {
        w.key("histogram").begin_object().key("counts").begin_array();
        for (double c : t.histogram) w.value(c);
        w.end_array();
        w.key("min");
        if (t.hist_min) w.value(*t.hist_min); else w.null();
        w.key("max");
        if (t.hist_max) w.value(*t.hist_max); else w.null();
        w.end_object();
    }
    w.end_object();
}

inline void write_layer_snapshot(json_writer& w, const layer_snapshot& s) {
    w.begin_object()
        .field("run_id", s.run_id)
        .field("step", static_cast<std::int64_t>(s.step))
        .field("timestamp", s.time);
    w.key("layers").begin_array();
    for (const auto& l : s.layers) {
        w.begin_object().field("name", l.name);
        if (l.activations) write_tensor_stats(w.key("activations"), *l.activations);
        if (l.gradients) write_tensor_stats(w.key("gradients"), *l.gradients);
        if (l.parameters) write_tensor_stats(w.key("parameters"), *l.parameters);
        w.end_object();
    }
    w.end_array().end_object();
}

inline void write_series(json_writer& w, const metric_series& s) {
    w.begin_object().key("steps").begin_array();
    for (const auto& p : s.points) w.value(static_cast<std::int64_t>(p.step));
    w.end_array().key("values").begin_array();
    for (const auto& p : s.points) w.value(p.value);
    w.end_array().key("times").begin_array();
    for (const auto& p : s.points) w.value(p.time);
    w.end_array()
        .field("total", static_cast<std::uint64_t>(s.total_in_range))
        .field("downsampled", s.downsampled)
        .end_object();
}

template <class F>
std::string to_json(F&& write) {
    std::string out;
    json_writer w(out);
    write(w);
    return out;
}

inline std::string run_json(const run_info& r) { return to_json([&](json_writer& w) { json_out::write_run(w, r); }); }
inline std::string checkpoint_json(const checkpoint_info& c) {
    return to_json([&](json_writer& w) { json_out::write_checkpoint(w, c); });
}

}  // namespace tmon::json_out
