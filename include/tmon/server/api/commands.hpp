#pragma once
// Commands for a remote training process: it polls with the last id it saw.
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::api {

template <class Store>
http::response list_commands(server_state<Store>& s, const api_request& r) {
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
void add_command_routes(route_table<Store>& t) {
    t.get("/api/runs/{run_id}/commands", list_commands<Store>);
}

}  // namespace tmon::api
