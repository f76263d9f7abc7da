#pragma once
// Binds REST handlers to the router so each api/<group>.hpp reads as a table:
//   t.get("/api/runs/{run_id}", get_run<Store>);
//   t.get("/api/runs", list_runs<Store>, accepts{"status", "limit"});
// A route takes only the query parameters it names (route_query.hpp).
// A handler is a plain function `http::response(server_state<Store>&, const api_request&)`
// that may throw http_error or tmon::error. It runs on the work pool, never on an
// io thread, and its response (or its error as JSON) is sent from there; the
// live events its writes published go out after the response, so fan-out to
// WebSocket subscribers does not delay the writer's acknowledgement.
// Two kinds answer on the io thread, saving the two thread hand-offs:
//   t.get_inline("/health", health)          never touches the store;
//   t.get(pattern, handler, from_memory)     from_memory answers from memory or
//                                            returns nullopt, then handler runs.
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/log.hpp"
#include "tmon/server/api/api_request.hpp"
#include "tmon/server/api/route_query.hpp"
#include "tmon/server/detail/server_state.hpp"
#include "tmon/server/detail/work_pool.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/request_limits.hpp"
#include "tmon/server/trainer_identity.hpp"
#include "tmon/transport/http/loggable.hpp"
#include "tmon/transport/http/query.hpp"
#include "tmon/transport/http/router.hpp"

namespace tmon {

template <class Store>
using api_handler = http::response (*)(detail::server_state<Store>&, const api_request&);
// Any callable of that signature: what an embedding program adds (server::get).
template <class Store>
using api_function = std::function<http::response(detail::server_state<Store>&, const api_request&)>;

// Runs on an io thread: must not block or touch the store. nullopt: cannot answer from memory.
template <class Store>
using memory_handler = std::optional<http::response> (*)(detail::server_state<Store>&, const api_request&);

template <class Store>
class route_table {
public:
    route_table(http::router& router, detail::server_state<Store>& state, detail::work_pool& pool)
        : router_(router), state_(state), pool_(pool) {}

    route_table& get(std::string_view pattern, api_handler<Store> h, accepts q = {}) {
        return add("GET", pattern, {h, nullptr, false}, std::move(q));
    }
    route_table& get(std::string_view pattern, api_handler<Store> h, memory_handler<Store> from_memory,
                     accepts q = {}) {
        return add("GET", pattern, {h, from_memory, false}, std::move(q));
    }
    route_table& get_inline(std::string_view pattern, api_handler<Store> h, accepts q = {}) {
        return add("GET", pattern, {h, nullptr, true}, std::move(q));
    }
    route_table& post(std::string_view pattern, api_handler<Store> h, accepts q = {}) {
        return add("POST", pattern, {h, nullptr, false}, std::move(q));
    }
    route_table& put(std::string_view pattern, api_handler<Store> h, accepts q = {}) {
        return add("PUT", pattern, {h, nullptr, false}, std::move(q));
    }
    route_table& del(std::string_view pattern, api_handler<Store> h, accepts q = {}) {
        return add("DELETE", pattern, {h, nullptr, false}, std::move(q));
    }
    // A route whose handler is any callable; runs on the work pool like the rest.
    route_table& add_callable(std::string_view method, std::string_view pattern, api_function<Store> h,
                              accepts q = {}) {
        return add(method, pattern, {std::move(h), nullptr, false}, std::move(q));
    }

private:
    struct handlers {
        api_function<Store> handler;
        memory_handler<Store> from_memory;
        bool on_io_thread;
    };

    // What a route keeps: its capture names and the query parameters it takes.
    struct route_shape {
        std::string method;
        std::string pattern;
        std::vector<std::string> names;
        accepts query;
    };

    route_table& add(std::string_view method, std::string_view pattern, handlers hs, accepts q) {
        // The table is a builder that goes away; the routes keep the state and pool.
        auto shape = std::make_shared<const route_shape>(
            route_shape{std::string(method), std::string(pattern), capture_names(pattern), std::move(q)});
        router_.add(method, pattern,
                    [state = &state_, pool = &pool_, hs, shape](http::request& req, const http::route_params& p,
                                                                respond_fn respond) {
                        handle(*state, *pool, hs, *shape, req, p, std::move(respond));
                    });
        return *this;
    }

    static void handle(detail::server_state<Store>& state, detail::work_pool& pool, const handlers& hs,
                       const route_shape& shape, http::request& req, const http::route_params& p, respond_fn respond) {
        api_request r;
        // route_params are views into the request's path, which is about to move: copy them.
        r.params.reserve(shape.names.size());
        for (const auto& n : shape.names) r.params.emplace_back(n, p.get(n));
        r.query = route_query(http::parse_query(req.query), &shape.query);
        r.http = std::move(req);
        r.limits_in_force = &state.limits();
        try {
            r.query.check(shape.method, shape.pattern);
            r.who = identity_from_headers(r.http, state.limits().host_bytes);
        } catch (const http_error& e) {
            respond(to_response(e));
            return;
        }
        r.pool = &pool;
        if (hs.on_io_thread) {
            respond(run(state, hs.handler, r));
            return;
        }
        if (hs.from_memory) {
            if (auto answer = run_from_memory(state, hs.from_memory, r)) {
                respond(std::move(*answer));
                return;
            }
        }
        offload(state, pool, hs.handler, std::make_shared<api_request>(std::move(r)), std::move(respond));
    }

    static void offload(detail::server_state<Store>& state, detail::work_pool& pool, const api_function<Store>& h,
                        std::shared_ptr<api_request> r, respond_fn respond) {
        bool queued = pool.try_post([&state, h, r, respond]() mutable {
            detail::deferred_events events(state.bus());
            http::response answer = run(state, h, *r);
            events.seal();
            respond(std::move(answer));
            events.publish();
        });
        if (!queued) respond(http::error_response(503, "the server is overloaded; retry shortly"));
    }

    // "/api/runs/{run_id}/layers/{step}" -> run_id, step
    static std::vector<std::string> capture_names(std::string_view pattern) {
        std::vector<std::string> out;
        for (std::size_t open = pattern.find('{'); open != std::string_view::npos; open = pattern.find('{', open + 1)) {
            auto close = pattern.find('}', open);
            if (close == std::string_view::npos) break;
            std::string_view name = pattern.substr(open + 1, close - open - 1);
            if (name.ends_with("...")) name.remove_suffix(3);
            out.emplace_back(name);
        }
        return out;
    }

    static std::optional<http::response> run_from_memory(detail::server_state<Store>& state, memory_handler<Store> h,
                                                         const api_request& r) {
        try {
            return h(state, r);
        } catch (const http_error& e) {
            return to_response(e);
        } catch (const error& e) {
            return to_response(e);
        } catch (const std::exception&) {
            return std::nullopt;  // let the store path answer, and log, properly
        }
    }

    // A POST to /api/runs/{run_id}/... is the trainer's sign of life, except
    // commands, which the dashboard and scripts send it. A PUT of the run is
    // when it names its host (X-Tmon-Host): the dashboard's STOP is not.
    static bool is_trainer_write(const api_request& r) {
        const auto& m = r.http.method;
        if (r.param("run_id").empty()) return false;
        if (m == "PUT") return !r.who.host.empty();
        return m == "POST" && !r.http.path.ends_with("/commands");
    }

    static void count_liveness(detail::server_state<Store>& state, const api_request& r, const http::response& res) {
        if (res.status < 200 || res.status >= 300 || r.liveness_recorded || !is_trainer_write(r)) return;
        try {
            state.trainer_seen(std::string(r.param("run_id")), r.who);
        } catch (const std::exception& e) {  // the write itself succeeded: answer it as such
            log(log_level::warn, "server", "recording liveness of run {} failed: {}", http::loggable(r.param("run_id")),
                e.what());
        }
    }

    static http::response run(detail::server_state<Store>& state, const api_function<Store>& h, const api_request& r) {
        try {
            http::response res = h(state, r);
            count_liveness(state, r, res);
            return res;
        } catch (const http_error& e) {
            return to_response(e);
        } catch (const error& e) {
            return to_response(e);
        } catch (const std::bad_alloc&) {
            return http::error_response(503, "out of memory while handling the request");
        } catch (const std::exception& e) {
            log(log_level::error, "server", "{} {} failed: {}", http::loggable(r.http.method),
                http::loggable(r.http.path), http::loggable(e.what()));
            return http::error_response(500, fmt::format("internal error: {}", e.what()));
        }
    }

    http::router& router_;
    detail::server_state<Store>& state_;
    detail::work_pool& pool_;
};

}  // namespace tmon
