#pragma once
// The events a store writes itself, in the same write as the change they
// describe, so the event log never disagrees with the state. Every store
// builds them here so their types, messages and data look the same.
#include <optional>
#include <string>

#include <fmt/format.h>

#include "tmon/core/types.hpp"
#include "tmon/detail/json_write.hpp"

namespace tmon::detail {

inline event make_event(const std::string& run_id, double time, std::string type, std::string message,
                        std::string data_json) {
    event e;
    e.run_id = run_id;
    e.time = time;
    e.type = std::move(type);
    e.message = std::move(message);
    e.data_json = std::move(data_json);
    return e;
}

inline event run_created_event(const run_info& r) {
    std::string data;
    json_writer w{data};
    w.begin_object().field("name", r.name).field("status", to_string(r.status)).end_object();
    return make_event(r.id, r.created_at, "run_created", fmt::format("run '{}' created", r.name), data);
}

inline event status_changed_event(const run_info& r, run_status old_status, double time) {
    std::string data;
    json_writer w{data};
    w.begin_object().field("old_status", to_string(old_status)).field("new_status", to_string(r.status)).end_object();
    return make_event(r.id, time, "status_changed",
                      fmt::format("status {} -> {}", to_string(old_status), to_string(r.status)), data);
}

inline std::string checkpoint_data(const checkpoint_info& c) {
    std::string data;
    json_writer w{data};
    w.begin_object().field("checkpoint_id", c.id).field("filepath", c.filepath);
    if (c.step) w.field("step", *c.step);
    else w.key("step").null();
    w.raw_field("metrics", c.metrics_json).field("is_best", c.is_best).end_object();
    return data;
}

inline event checkpoint_saved_event(const checkpoint_info& c, double time) {
    return make_event(c.run_id, time, "checkpoint_saved", fmt::format("checkpoint saved: {}", c.filepath),
                      checkpoint_data(c));
}

inline event checkpoint_deleted_event(const checkpoint_info& c, double time) {
    return make_event(c.run_id, time, "checkpoint_deleted", fmt::format("checkpoint deleted: {}", c.filepath),
                      checkpoint_data(c));
}

inline event best_changed_event(const checkpoint_info& c, const std::optional<std::string>& previous, double time) {
    std::string data;
    json_writer w{data};
    w.begin_object().field("checkpoint_id", c.id).field("filepath", c.filepath);
    if (previous) w.field("previous_best_id", *previous);
    else w.key("previous_best_id").null();
    w.end_object();
    return make_event(c.run_id, time, "best_changed", fmt::format("best checkpoint: {}", c.filepath), data);
}

}  // namespace tmon::detail
