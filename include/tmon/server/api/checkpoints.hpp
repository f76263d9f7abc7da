#pragma once
// Checkpoints: list (newest first), read, save, delete, mark best, and "load",
// which queues a command for the training process (see api/commands.hpp).
#include <algorithm>
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::api {

template <class Store>
http::response list_checkpoints(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    auto cks = s.store().list_checkpoints(run.id);
    std::stable_sort(cks.begin(), cks.end(), [](const checkpoint_info& a, const checkpoint_info& b) {
        if (a.created_at != b.created_at) return a.created_at > b.created_at;
        return a.step.value_or(-1) > b.step.value_or(-1);
    });
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("checkpoints").begin_array();
    for (const auto& c : cks) json_out::write_checkpoint(w, c);
    w.end_array().field("total", static_cast<std::uint64_t>(cks.size())).end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response get_checkpoint(detail::server_state<Store>& s, const api_request& r) {
    return json_response(json_out::checkpoint_json(s.require_checkpoint(r.param("checkpoint_id"))));
}

template <class Store>
http::response add_checkpoint(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    new_checkpoint nc = json_body::parse_new_checkpoint(r.body(), std::string(r.param("run_id")), r.limits());
    // A replay of an id stored for this run returns it as it is and announces
    // nothing; the store refuses the id on another run (409).
    bool replay = nc.id && s.store().get_checkpoint(*nc.id).has_value();
    checkpoint_info c = s.store().add_checkpoint(nc);
    if (!replay) s.checkpoint_saved(c);
    return json_response(json_out::checkpoint_json(c));
}

template <class Store>
http::response delete_checkpoint(detail::server_state<Store>& s, const api_request& r) {
    checkpoint_info c = s.require_checkpoint(r.param("checkpoint_id"));
    if (!s.store().delete_checkpoint(c.id)) throw not_found(fmt::format("checkpoint '{}' does not exist", c.id));
    s.checkpoint_deleted(c);
    std::string out;
    json_out::json_writer(out).begin_object().field("deleted", true).field("id", c.id).end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response mark_best(detail::server_state<Store>& s, const api_request& r) {
    checkpoint_info c = s.store().mark_best(r.param("checkpoint_id"));
    s.best_changed(c);
    return json_response(json_out::checkpoint_json(c));
}

template <class Store>
http::response load_checkpoint(detail::server_state<Store>& s, const api_request& r) {
    checkpoint_info c = s.require_checkpoint(r.param("checkpoint_id"));
    command cmd;
    cmd.run_id = c.run_id;
    cmd.type = "load_checkpoint";
    cmd.checkpoint_id = c.id;
    cmd.filepath = c.filepath;
    cmd = s.commands().push(std::move(cmd));

    std::string data;
    json_out::json_writer(data)
        .begin_object()
        .field("command_id", static_cast<std::int64_t>(cmd.id))
        .field("checkpoint_id", c.id)
        .field("filepath", c.filepath)
        .end_object();
    s.store().append_event(event{.id = 0,
                                 .run_id = c.run_id,
                                 .time = cmd.created_at,
                                 .type = "checkpoint_load_requested",
                                 .message = fmt::format("load of checkpoint {} ({}) requested", c.id, c.filepath),
                                 .data_json = std::move(data)});
    s.command_queued(cmd);

    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("command");
    json_out::write_command(w, cmd);
    w.end_object();
    return json_response(std::move(out), 202);
}

template <class Store>
void add_checkpoint_routes(route_table<Store>& t) {
    t.get("/api/runs/{run_id}/checkpoints", list_checkpoints<Store>)
        .post("/api/runs/{run_id}/checkpoints", add_checkpoint<Store>)
        .get("/api/checkpoints/{checkpoint_id}", get_checkpoint<Store>)
        .del("/api/checkpoints/{checkpoint_id}", delete_checkpoint<Store>)
        .post("/api/checkpoints/{checkpoint_id}/mark_best", mark_best<Store>)
        .post("/api/checkpoints/{checkpoint_id}/load", load_checkpoint<Store>);
}

}  // namespace tmon::api
