#pragma once
// Validation and the pure parts of a write that every store shares: what a
// new run looks like, how an update changes one, which values are refused.
// All of it runs before anything is written, so a refused write changes nothing.
// Text must be valid UTF-8 in every store: what is stored is sent back as JSON,
// and one bad byte would make a whole reply unreadable to a strict client.
#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/core/status.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/ids.hpp"
#include "tmon/detail/utf8.hpp"

namespace tmon::detail {

// `what` names the field in the message ("run name", "metric key").
inline void check_utf8(std::string_view text, std::string_view what) {
    std::size_t bad = first_invalid_utf8(text);
    if (bad == text.size()) return;
    throw error(errc::invalid_argument, fmt::format("{} holds invalid UTF-8 (byte {} of {} is 0x{:02x})", what, bad,
                                                    text.size(), static_cast<unsigned char>(text[bad])));
}

inline void check_utf8(const std::vector<std::string>& texts, std::string_view what) {
    for (const auto& t : texts) check_utf8(t, what);
}

inline void check_points(std::span<const metric_point> points) {
    for (const auto& p : points) {
        if (p.key.empty()) throw error(errc::invalid_argument, "a metric key must not be empty");
        check_utf8(p.key, "a metric key");
        if (!std::isfinite(p.value))
            throw error(errc::invalid_argument,
                        fmt::format("metric '{}' at step {} is not a finite number", p.key, p.step));
        if (!std::isfinite(p.time))
            throw error(errc::invalid_argument,
                        fmt::format("metric '{}' at step {} has a non-finite time", p.key, p.step));
    }
}

inline void check_system_sample(const system_sample& s) {
    if (!std::isfinite(s.time) || !std::isfinite(s.cpu_percent) || !std::isfinite(s.memory_percent))
        throw error(errc::invalid_argument, "a system sample must have finite time, cpu and memory values");
    check_utf8(s.host, "a system sample's host");
    for (const auto& g : s.gpus) check_utf8(g.name, "a GPU name");
}

inline void check_layers(const layer_snapshot& l) {
    for (const auto& layer : l.layers) check_utf8(layer.name, "a layer name");
}

inline void check_event(const event& e) {
    if (e.type.empty()) throw error(errc::invalid_argument, "an event needs a type");
    check_utf8(e.type, "an event type");
    check_utf8(e.message, "an event message");
    check_utf8(e.data_json, "an event's data");
}

inline run_info make_run(const new_run& r, double now) {
    if (r.name.empty()) throw error(errc::invalid_argument, "a run needs a non-empty name");
    if (r.id && r.id->empty()) throw error(errc::invalid_argument, "a given run id must not be empty");
    check_utf8(r.name, "a run name");
    if (r.id) check_utf8(*r.id, "a run id");
    check_utf8(r.config_json, "a run config");
    check_utf8(r.tags, "a run tag");
    check_utf8(r.notes, "a run's notes");
    run_info info;
    info.id = r.id ? *r.id : make_id("run");
    info.name = r.name;
    info.status = r.status;
    info.config_json = r.config_json.empty() ? "{}" : r.config_json;
    info.tags = r.tags;
    info.notes = r.notes;
    info.start_time = now;
    info.created_at = now;
    info.updated_at = now;
    info.total_steps = r.total_steps;
    if (is_terminal(info.status)) info.end_time = now;
    return info;
}

// A given id that exists: same name is a replay of the same create, anything
// else is a different run claiming the id.
inline void check_replay(const run_info& existing, const new_run& r) {
    if (existing.name != r.name)
        throw error(errc::conflict, fmt::format("run id '{}' already exists with name '{}', not '{}'", existing.id,
                                                existing.name, r.name));
}

inline void check_transition(const run_info& r, run_status to) {
    if (!is_valid_transition(r.status, to))
        throw error(errc::conflict, fmt::format("run '{}' cannot change status from {} to {}", r.id,
                                                to_string(r.status), to_string(to)));
}

// Returns the updated copy; throws before anything changes.
inline run_info apply_update(run_info r, const run_update& u, double now) {
    if (u.name && u.name->empty()) throw error(errc::invalid_argument, "a run name must not be empty");
    if (u.name) check_utf8(*u.name, "a run name");
    if (u.config_json) check_utf8(*u.config_json, "a run config");
    if (u.tags) check_utf8(*u.tags, "a run tag");
    if (u.notes) check_utf8(*u.notes, "a run's notes");
    if (u.status) {
        check_transition(r, *u.status);
        if (*u.status != r.status) {
            if (is_terminal(*u.status)) r.end_time = now;
            else r.end_time.reset();
            r.status = *u.status;
        }
    }
    if (u.name) r.name = *u.name;
    if (u.config_json) r.config_json = u.config_json->empty() ? "{}" : *u.config_json;
    if (u.tags) r.tags = *u.tags;
    if (u.notes) r.notes = *u.notes;
    if (u.total_steps) r.total_steps = *u.total_steps;
    r.updated_at = now;
    return r;
}

inline checkpoint_info make_checkpoint(const new_checkpoint& c, double now) {
    if (c.filepath.empty()) throw error(errc::invalid_argument, "a checkpoint needs a filepath");
    if (c.id && c.id->empty()) throw error(errc::invalid_argument, "a given checkpoint id must not be empty");
    check_utf8(c.filepath, "a checkpoint path");
    if (c.id) check_utf8(*c.id, "a checkpoint id");
    check_utf8(c.metrics_json, "a checkpoint's metrics");
    check_utf8(c.metadata_json, "a checkpoint's metadata");
    checkpoint_info info;
    info.id = c.id ? *c.id : make_id("ckpt");
    info.run_id = c.run_id;
    info.filepath = c.filepath;
    info.step = c.step;
    info.metrics_json = c.metrics_json.empty() ? "{}" : c.metrics_json;
    info.metadata_json = c.metadata_json.empty() ? "{}" : c.metadata_json;
    info.is_best = c.is_best;
    info.created_at = now;
    return info;
}

[[noreturn]] inline void throw_unknown_run(std::string_view id) {
    throw error(errc::not_found, fmt::format("run '{}' not found", id));
}
[[noreturn]] inline void throw_unknown_checkpoint(std::string_view id) {
    throw error(errc::not_found, fmt::format("checkpoint '{}' not found", id));
}

}  // namespace tmon::detail
