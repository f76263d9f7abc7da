#pragma once
// Every object of the wire contract (docs/API.md) written with json_writer.
// write_* append to an open writer (so objects nest); *_json return text.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/server/liveness.hpp"

namespace tmon::json_out {

using detail::json_writer;
using detail::write_strings;

// How the API writes the objects it shares with the storage records
// (detail/record_codec.hpp): times as ISO 8601, null when unset (a
// sample's time stays Unix seconds); an event's or sample's time under
// "timestamp"; embedded JSON as "{}" when empty.
struct wire_style {
    static constexpr std::string_view time_key = "timestamp";  // of an event or a sample
    static void time(json_writer& w, std::string_view k, std::optional<double> t) {
        w.key(k);
        if (t && *t > 0) w.value(iso8601(*t));
        else w.null();
    }
    static void json(json_writer& w, std::string_view k, std::string_view text) {
        w.raw_field(k, text.empty() ? "{}" : text);
    }
};

// `live`: what the liveness registry knows of the run (server_state::liveness_of).
// Stale only while running: a run that ended is not waiting for its trainer.
inline void write_run(json_writer& w, const run_info& r, const run_liveness& live = {}) {
    w.begin_object();
    detail::write_run_fields<wire_style>(w, r);
    // Clamped to [0, 1]: a run that went past its planned steps is done, not at
    // 9999 %; last_step still says how far it went.
    w.key("progress");
    if (r.total_steps && *r.total_steps > 0)
        w.value(
            std::clamp(static_cast<double>(r.last_step.value_or(0)) / static_cast<double>(*r.total_steps), 0.0, 1.0));
    else w.null();
    w.field("stale", live.stale && r.status == run_status::running);
    wire_style::time(w, "last_seen", live.last_seen);
    w.key("hosts").begin_array();
    for (const auto& h : live.hosts) {
        w.begin_object().field("host", h.host).field("rank", h.rank);
        wire_style::time(w, "last_seen", h.last_seen);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

inline void write_checkpoint(json_writer& w, const checkpoint_info& c) { detail::write_checkpoint<wire_style>(w, c); }

// Fields only, so system_update can put them beside "type". The first GPU's
// figures are repeated at the top for clients that chart one GPU.
inline void write_system_fields(json_writer& w, const system_sample& s) {
    detail::write_system_fields<wire_style>(w, s);
    if (!s.gpus.empty()) {
        const auto& g = s.gpus.front();
        w.field("gpu_utilization", g.utilization)
            .field("gpu_memory_used", g.memory_used)
            .field("gpu_memory_total", g.memory_total);
    }
}

inline void write_system_sample(json_writer& w, const system_sample& s) {
    w.begin_object();
    json_out::write_system_fields(w, s);
    w.end_object();
}

inline void write_event(json_writer& w, const event& e) { detail::write_event<wire_style>(w, e); }

inline void write_command(json_writer& w, const command& c) {
    w.begin_object()
        .field("id", c.id)
        .field("type", c.type)
        .field("run_id", c.run_id)
        .field("checkpoint_id", c.checkpoint_id)
        .field("filepath", c.filepath);
    wire_style::json(w, "payload", c.payload_json);
    wire_style::time(w, "created_at", c.created_at);
    w.end_object();
}

inline void write_layer_snapshot(json_writer& w, const layer_snapshot& s) {
    detail::write_layer_snapshot<wire_style>(w, s);
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

inline std::string run_json(const run_info& r, const run_liveness& live = {}) {
    return detail::json_text([&](json_writer& w) { json_out::write_run(w, r, live); });
}
inline std::string checkpoint_json(const checkpoint_info& c) {
    return detail::json_text([&](json_writer& w) { json_out::write_checkpoint(w, c); });
}

}  // namespace tmon::json_out
