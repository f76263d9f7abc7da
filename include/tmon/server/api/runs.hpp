#pragma once
// Runs: list (filters, sort, pagination), read, create (idempotent by id),
// update (status transitions checked by the store; cancelling or interrupting
// a run also sends its trainer a stop or interrupt command), delete. Every run
// object carries its liveness: stale, last_seen, hosts.
#include <string>

#include "tmon/server/api/route_table.hpp"
#include "tmon/server/json_body.hpp"
#include "tmon/server/json_out.hpp"

namespace tmon::api {

inline run_sort parse_run_sort(std::string_view s) {
    if (s.empty()) return run_sort::created_desc;
    for (auto v : {run_sort::created_desc, run_sort::created_asc, run_sort::name_asc, run_sort::name_desc,
                   run_sort::updated_desc})
        if (s == to_string(v)) return v;
    throw malformed(fmt::format(
        "query parameter 'sort' must be created_desc, created_asc, name_asc, name_desc or updated_desc, got '{}'", s));
}

inline run_query parse_run_query(const api_request& r) {
    run_query q;
    if (auto s = r.query.get("status"); s && !s->empty()) {
        q.status = parse_run_status(*s);
        if (!q.status)
            throw malformed(fmt::format(
                "query parameter 'status' must be running, completed, failed, interrupted or cancelled, got '{}'", *s));
    }
    q.name_contains = std::string(r.query.get_or("q", ""));
    q.tag = std::string(r.query.get_or("tag", ""));
    q.sort = parse_run_sort(r.query.get_or("sort", ""));
    q.limit = r.int_query<std::size_t>("limit", 1, 1000).value_or(100);
    q.offset = r.int_query<std::size_t>("offset", 0, std::numeric_limits<std::size_t>::max() / 2).value_or(0);
    return q;
}

template <class Store>
http::response list_runs(detail::server_state<Store>& s, const api_request& r) {
    run_query q = parse_run_query(r);
    run_page page = s.store().list_runs(q);
    std::string out;
    json_out::json_writer w(out);
    w.begin_object().key("runs").begin_array();
    for (const auto& run : page.runs) s.write_run(w, run);
    w.end_array()
        .field("total", static_cast<std::uint64_t>(page.total))
        .field("limit", static_cast<std::uint64_t>(q.limit))
        .field("offset", static_cast<std::uint64_t>(q.offset))
        .end_object();
    return json_response(std::move(out));
}

template <class Store>
http::response get_run(detail::server_state<Store>& s, const api_request& r) {
    return json_response(s.run_json(s.require_run(r.param("run_id"))));
}

template <class Store>
http::response create_run(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    new_run nr = json_body::parse_new_run(r.body(), r.limits());
    // A replay of a known id returns the run as it is and announces nothing.
    bool replay = nr.id && s.store().get_run(*nr.id).has_value();
    run_info run = s.store().create_run(nr);
    s.trainer_seen(run.id, r.who);  // a trainer creates its run: alive, from this host
    if (!replay) s.run_created(run);
    return json_response(s.run_json(run));
}

template <class Store>
http::response update_run(detail::server_state<Store>& s, const api_request& r) {
    require_json_body(r);
    run_update u = json_body::parse_run_update(r.body(), r.limits());
    run_info before = s.require_run(r.param("run_id"));
    run_info after = s.store().update_run(before.id, u);
    s.run_updated(before, after);
    bool stopped = after.status == run_status::cancelled || after.status == run_status::interrupted;
    if (before.status != after.status && stopped) {
        command c;
        c.run_id = after.id;
        c.type = after.status == run_status::cancelled ? "stop" : "interrupt";
        s.queue_command(std::move(c));
    }
    return json_response(s.run_json(after));
}

template <class Store>
http::response delete_run(detail::server_state<Store>& s, const api_request& r) {
    std::string id(r.param("run_id"));
    if (!s.store().delete_run(id)) throw not_found(fmt::format("run '{}' does not exist", id));
    s.run_deleted(id);
    std::string out;
    json_out::json_writer(out).begin_object().field("deleted", true).field("id", id).end_object();
    return json_response(std::move(out));
}

template <class Store>
void add_run_routes(route_table<Store>& t) {
    t.get("/api/runs", list_runs<Store>, accepts{"status", "q", "tag", "sort", "limit", "offset"})
        .post("/api/runs", create_run<Store>)
        .get("/api/runs/{run_id}", get_run<Store>)
        .put("/api/runs/{run_id}", update_run<Store>)
        .del("/api/runs/{run_id}", delete_run<Store>);
}

}  // namespace tmon::api
