#pragma once
// Commands for a remote training process: scripts queue them, the trainer
// polls with the last id it saw and acknowledges each into the event log.
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"
#include "tmon/server/trainer_body.hpp"

namespace tmon::api {

template <class Store>
http::response list_commands(detail::server_state<Store>& s, const api_request& r) {
    run_info run = s.require_run(r.param("run_id"));
    auto after = r.int_query<std::int64_t>("after", 0).value_or(0);
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("commands").begin_array();
    for (const auto& c : s.commands().after(run.id, after)) json_out::write_command(w, c);
    w.end_array().end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response post_command(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    command c = json_body::parse_command(r.body(), std::string(r.param("run_id")), r.limits());
    s.require_run(c.run_id);
    c = s.queue_command(std::move(c));
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("command");
    json_out::write_command(w, c);
    w.end_object();
    return json_response(std::move(out), 202);
}

// One command_acknowledged event per command id, whatever the replays: the
// event's client id is derived from the command's. An id the queue no longer
// knows (a server restart) is answered acknowledged:false, and logged all the
// same, so the trainer does not retry forever.
template <class Store>
http::response ack_command(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    auto ack = json_body::parse_command_ack(r.body(), r.limits());
    run_info run = s.require_run(r.param("run_id"));
    std::int64_t id = 0;
    auto raw = r.param("command_id");
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
    if (ec != std::errc{} || end != raw.data() + raw.size() || id < 1)
        throw malformed(fmt::format("command id must be a positive integer, got '{}'", raw.substr(0, 32)));
    auto cmd = s.commands().find(run.id, id);
    std::string type = cmd ? cmd->type : std::string("unknown");
    std::string by = r.who.host.empty() ? std::string{} : fmt::format(" by {} rank {}", r.who.host, r.who.rank);
    std::string data;
    json_out::json_writer(data)
        .begin_object()
        .field("command_id", id)
        .field("command_type", type)
        .field("status", ack.status)
        .field("message", ack.message)
        .field("host", r.who.host)
        .field("rank", r.who.rank)
        .field("known", cmd.has_value())
        .end_object();
    event e;
    e.run_id = run.id;
    e.type = "command_acknowledged";
    e.message = cmd ? fmt::format("{} acknowledged{}: {}", type, by, ack.status)
                    : fmt::format("command {} (unknown to this server) acknowledged{}: {}", id, by, ack.status);
    if (!ack.message.empty()) e.message += fmt::format(" ({})", ack.message);
    e.data_json = std::move(data);
    e.client_id = fmt::format("tmon-ack-{}", id);
    s.store().append_event(e);
    s.publish_new_events();
    std::string out;
    json_out::json_writer(out)
        .begin_object()
        .field("acknowledged", cmd.has_value())
        .field("command_id", id)
        .end_object();
    return json_response(std::move(out));
}

template <class Store>
void add_command_routes(route_table<Store>& t) {
    t.get("/api/runs/{run_id}/commands", list_commands<Store>, accepts{"after"})
        .post("/api/runs/{run_id}/commands", post_command<Store>)
        .post("/api/runs/{run_id}/commands/{command_id}/ack", ack_command<Store>);
}

}  // namespace tmon::api
