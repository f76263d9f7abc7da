#pragma once
// tmon::server's definitions (tmon/server/server.hpp declares it, and says what
// it does): what the server holds (detail::server_impl: store state, routes,
// WebSocket hub, work pool, transport, sampler) and the server's members, which
// forward to it. Included by tmon/server.hpp unless TMON_SEPARATE_COMPILATION,
// by src/server*.cpp, and by a separate-compilation TU that runs a server over
// its own store, transport or sampler (the library compiles only its own).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tmon/core/log.hpp"
#include "tmon/detail/periodic_worker.hpp"
#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/sampler_concept.hpp"
#include "tmon/sampler/system_sampler.hpp"
#include "tmon/server/api/checkpoints.hpp"
#include "tmon/server/api/commands.hpp"
#include "tmon/server/api/events.hpp"
#include "tmon/server/api/exports.hpp"
#include "tmon/server/api/layers.hpp"
#include "tmon/server/api/liveness.hpp"
#include "tmon/server/api/metrics.hpp"
#include "tmon/server/api/route_table.hpp"
#include "tmon/server/api/runs.hpp"
#include "tmon/server/api/system.hpp"
#include "tmon/server/auth.hpp"
#include "tmon/server/detail/body_start.hpp"
#include "tmon/server/detail/server_state.hpp"
#include "tmon/server/detail/static_assets.hpp"
#include "tmon/server/detail/stop_signals.hpp"
#include "tmon/server/detail/work_pool.hpp"
#include "tmon/server/detail/ws_hub.hpp"
#include "tmon/server/request_guard.hpp"
#include "tmon/server/server.hpp"
#include "tmon/server/server_config.hpp"
#include "tmon/server/server_recorder_impl.hpp"
#include "tmon/storage/storage_concept.hpp"
#include "tmon/transport/asio_transport.hpp"
#include "tmon/transport/http/loggable.hpp"
#include "tmon/transport/http/router.hpp"
#include "tmon/transport/transport_concept.hpp"

namespace tmon {

namespace detail {

// sqlite_store takes .path, jsonl_store .dir, others nothing from the config.
template <class Store>
std::unique_ptr<Store> make_store(const server_config& c) {
    if constexpr (requires(typename Store::options o) { o.path = c.db_path; }) {
        typename Store::options o{};
        o.path = c.db_path;
        return std::make_unique<Store>(o);
    } else if constexpr (requires(typename Store::options o) { o.dir = c.db_path; }) {
        typename Store::options o{};
        o.dir = c.db_path;
        return std::make_unique<Store>(o);
    } else {
        return std::make_unique<Store>();
    }
}

inline bool is_api_path(std::string_view path) {
    return path.starts_with("/api/") || path == "/api" || path == "/health";
}

// The most body a request may bring, known from its head before the body is
// read: only metric batches need megabytes.
inline std::size_t body_limit_for(const request_limits& l, const http::request& head) {
    if (head.method == "POST" && head.path.starts_with("/api/runs/") && head.path.ends_with("/metrics"))
        return l.metrics_body_bytes;
    if (head.path == "/api/v1/metrics/layerwise") return l.layers_body_bytes;
    return l.small_body_bytes;
}

inline http::response token_required() {
    return http::error_response(401, "a valid token is required (Authorization: Bearer <token> or ?token=)");
}

// What tmon::server holds: everything it serves with.
template <class Store, class Transport, class Sampler>
class server_impl {
    static_assert(assert_transport<Transport>());

public:
    using recorder_type = server_recorder<Store>;

    explicit server_impl(server_config config)
        : config_(std::move(config)), owned_store_(make_store<Store>(config_)), store_(*owned_store_) {
        start();
    }
    server_impl(Store& store, server_config config) : config_(std::move(config)), store_(store) { start(); }
    server_impl(const server_impl&) = delete;
    server_impl& operator=(const server_impl&) = delete;
    ~server_impl() { stop(); }

    std::uint16_t port() const { return transport_.port(); }
    std::string url() const { return fmt::format("http://{}:{}/", config_.host, port()); }
    Store& store() noexcept { return store_; }
    const server_config& config() const noexcept { return config_; }
    std::size_t ws_connections() const { return hub_.connections(); }
    recorder_type& recorder() noexcept { return recorder_; }

    int wait() {
        return stop_signals::instance().wait([this] { return stopped_.load(); });
    }

    void stop() {
        std::call_once(stop_once_, [this] { shut_down(); });
    }

    void add_route(std::string_view method, std::string_view pattern, user_handler h, accepts query) {
        if (!h) throw std::invalid_argument(fmt::format("tmon::server: {} {} has an empty handler", method, pattern));
        if (!pattern.starts_with('/'))
            throw std::invalid_argument(fmt::format("tmon::server: route '{}' must start with '/'", pattern));
        http::route_params ignored;
        if (pattern == "/" || pattern == "/ws" || router_.match(method, pattern, ignored).status != 404)
            throw std::invalid_argument(
                fmt::format("tmon::server: {} {} would take a path tmon serves itself (docs/API.md); "
                            "choose another, e.g. under /api/ext/",
                            method, pattern));
        std::string key = fmt::format("{} {}", method, pattern);
        std::unique_lock lock(user_routes_mutex_);
        if (std::find(user_routes_.begin(), user_routes_.end(), key) != user_routes_.end())
            throw std::invalid_argument(fmt::format("tmon::server: {} was added already", key));
        route_table<Store> t(user_router_, state_, pool_);
        t.add_callable(
            method, pattern,
            [h = std::make_shared<const user_handler>(std::move(h))](detail::server_state<Store>&,
                                                                     const api_request& r) { return (*h)(r); },
            std::move(query));
        user_routes_.push_back(std::move(key));
        has_user_routes_.store(true, std::memory_order_release);
    }

private:
    void shut_down() {
        sampler_worker_.stop();
        liveness_worker_.stop();
        housekeeping_.stop();
        pool_.stop();
        transport_.stop();
        state_.bus().unsubscribe(bus_subscription_);
        try {
            store_.flush();
        } catch (const std::exception& e) {
            log(log_level::error, "server", "flushing the store on stop failed: {}", e.what());
        }
        stopped_.store(true);
        detail::stop_signals::instance().wake();
    }

    void start() {
        add_routes();
        bus_subscription_ = state_.bus().subscribe([this](const detail::live_event& e) { hub_.deliver(e); });
        transport_.start(transport_settings(), handlers());
        housekeeping_.start(
            "ws-flush", std::chrono::milliseconds(100), [this] { hub_.flush_idle(); }, false);
        if (config_.liveness.stale_after_s > 0) {
            // A quarter of stale_after between looks: a run turns stale at most 25% late.
            auto period = std::chrono::duration<double>(std::clamp(config_.liveness.stale_after_s / 4, 0.1, 5.0));
            liveness_worker_.start("liveness", std::chrono::duration_cast<std::chrono::milliseconds>(period),
                                   [this] { state_.check_liveness(); });
        }
        if constexpr (Sampler::enabled) {
            if (config_.sample_period.count() > 0)
                sampler_worker_.start("sampler", config_.sample_period, [this] { sample_system(); });
        }
        log(log_level::info, "server", "serving {} ({} storage)", url(), state_.storage_name());
        if (!guard_.loopback_only() && !auth_.enabled())
            log(log_level::warn, "server",
                "listening on {} with no token: anyone who can reach this address can read and write every run "
                "(set --token / TMON_TOKEN)",
                config_.host);
    }

    void add_routes() {
        route_table<Store> t(router_, state_, pool_);
        api::add_system_routes(t);
        api::add_run_routes(t);
        api::add_metric_routes(t);
        api::add_checkpoint_routes(t);
        api::add_command_routes(t);
        api::add_layer_routes(t);
        api::add_export_routes(t);
        api::add_event_routes(t);
        api::add_liveness_routes(t);
    }

    transport_config transport_settings() const {
        transport_config c;
        c.host = config_.host;
        c.port = config_.port;
        c.threads = config_.threads;
        c.cors_origin = config_.cors_origin;
        c.limits = config_.limits;
        return c;
    }

    app_handlers handlers() {
        app_handlers h;
        h.on_request = [this](http::request&& req, respond_fn respond) {
            on_request(std::move(req), std::move(respond));
        };
        // The route's limit, never above the transport's max_body_bytes: that one caps every route.
        h.body_limit = [this](const http::request& head) {
            return std::min(detail::body_limit_for(config_.requests, head), config_.limits.max_body_bytes);
        };
        h.body_start = [this](const http::request& head, std::string_view so_far) { return body_start(head, so_far); };
        h.on_ws_upgrade = [this](const http::request& req) -> std::optional<http::response> {
            if (auto refusal = guard_.check_upgrade(req)) {
                log(log_level::warn, "server", "ws handshake from {} refused: {}", req.remote, refusal->body);
                return refusal;
            }
            if (auth_.allows(req)) return std::nullopt;
            log(log_level::warn, "server", "ws handshake from {} refused: missing or wrong token", req.remote);
            return detail::token_required();
        };
        h.on_ws_open = [this](const ws_peer_ptr& p) { hub_.on_open(p); };
        h.on_ws_message = [this](const ws_peer_ptr& p, std::string_view text) { hub_.on_message(p, text); };
        h.on_ws_drain = [this](const ws_peer_ptr& p) { hub_.on_drain(p); };
        h.on_ws_close = [this](const ws_peer_ptr& p) { hub_.on_close(p); };
        return h;
    }

    // A bulk JSON body that cannot be JSON, refused from its first bytes. Only
    // where the route itself would be the one to refuse it (past the Host and
    // Origin checks, the token and the media type), so no status changes.
    body_start_verdict body_start(const http::request& head, std::string_view so_far) {
        if (!detail::is_bulk_json_route(head) || !is_json_media_type(head) || guard_.check(head) || !auth_.allows(head))
            return {};
        auto verdict = detail::json_body_start(so_far, config_.requests.json_depth);
        if (verdict.refusal)
            log(log_level::warn, "http", "{} {} {} from its first bytes, the rest unread: {}",
                http::loggable(head.method), http::loggable(head.path), verdict.refusal->status, verdict.refusal->body);
        return verdict;
    }

    void on_request(http::request&& req, respond_fn respond) {
        respond = logged(req, std::move(respond));
        if (auto refusal = guard_.check(req)) {
            respond(std::move(*refusal));
            return;
        }
        if (has_user_routes_.load(std::memory_order_acquire) && serve_user_route(req, respond)) return;
        bool api = detail::is_api_path(req.path);
        if (api && !auth_.allows(req)) {
            respond(detail::token_required());
            return;
        }
        if (!api && (req.method == "GET" || req.method == "HEAD")) {
            serve_static(std::move(req), std::move(respond));
            return;
        }
        router_.dispatch(req, std::move(respond));
    }

    // A route of the embedding program's, where none of tmon's own answers the
    // path (404 from its router: tmon's routes win). Same token as the API.
    // True when it took the request (answered, or refused it with 401 or 405).
    bool serve_user_route(http::request& req, respond_fn& respond) {
        std::shared_lock lock(user_routes_mutex_);
        http::route_params params;
        if (user_router_.match(req.method, req.path, params).status == 404) return false;
        if (router_.match(req.method, req.path, params).status != 404) return false;
        if (!auth_.allows(req)) respond(detail::token_required());
        else user_router_.dispatch(req, std::move(respond));
        return true;
    }

    // The dashboard's files carry no data, so they are served without the token
    // (a browser cannot attach it to script and style requests).
    void serve_static(http::request&& req, respond_fn respond) {
        auto r = std::make_shared<http::request>(std::move(req));
        bool queued = pool_.try_post([this, r, respond] { respond(static_.serve(*r)); });
        if (!queued) respond(http::error_response(503, "the server is overloaded; retry shortly"));
    }

    // One line per request at debug level, one per error always.
    respond_fn logged(const http::request& req, respond_fn respond) {
        // The path is percent-decoded: escaped so "%0a" cannot forge a log line.
        return [respond = std::move(respond), method = http::loggable(req.method), path = http::loggable(req.path),
                start = std::chrono::steady_clock::now()](http::response res) {
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
            if (res.status >= 500)
                log(log_level::error, "http", "{} {} {} {}us {}", method, path, res.status, us.count(), res.body);
            else if (res.status >= 400)
                log(log_level::warn, "http", "{} {} {} {}us {}", method, path, res.status, us.count(), res.body);
            else log(log_level::debug, "http", "{} {} {} {}us", method, path, res.status, us.count());
            respond(std::move(res));
        };
    }

    void sample_system() {
        system_sample s = sampler_.sample();
        if (s.time == 0) s.time = now_seconds();
        store_.append_system(s);
        state_.system_sampled(s);
    }

    server_config config_;
    std::unique_ptr<Store> owned_store_;
    Store& store_;
    detail::server_state<Store> state_{store_, config_.requests, config_.liveness};
    recorder_type recorder_{state_};
    detail::ws_hub hub_{detail::ws_hub::limits{.points_per_run = config_.ws_points_per_run,
                                               .messages_per_peer = config_.ws_messages_per_peer,
                                               .subscriptions = config_.requests.ws_subscriptions},
                        [this](std::string_view id) { return store_.get_run(id).has_value(); }, config_.requests};
    detail::work_pool pool_{config_.workers, config_.max_queued_requests};
    http::router router_;                   // tmon's own routes: complete before the transport starts, then only read
    http::router user_router_;              // the program's, added while serving: under user_routes_mutex_
    std::vector<std::string> user_routes_;  // "GET /api/ext/x", so the same one is refused twice
    std::shared_mutex user_routes_mutex_;
    std::atomic<bool> has_user_routes_{false};
    detail::static_site static_{config_.static_dir};
    token_auth auth_{config_.token};
    request_guard guard_{config_.host, config_.allowed_hosts, config_.cors_origin};
    Transport transport_;
    Sampler sampler_;
    detail::periodic_worker sampler_worker_;
    detail::periodic_worker liveness_worker_;
    detail::periodic_worker housekeeping_;
    std::uint64_t bus_subscription_ = 0;
    std::once_flag stop_once_;
    std::atomic<bool> stopped_{false};  // stop() has finished
};

}  // namespace detail

// ---- server's members --------------------------------------------------------
template <class Store, class Transport, class Sampler>
server<Store, Transport, Sampler>::server(server_config config)
    : impl_(std::make_unique<detail::server_impl<Store, Transport, Sampler>>(std::move(config))) {}

template <class Store, class Transport, class Sampler>
server<Store, Transport, Sampler>::server(Store& store, server_config config)
    : impl_(std::make_unique<detail::server_impl<Store, Transport, Sampler>>(store, std::move(config))) {}

template <class Store, class Transport, class Sampler>
server<Store, Transport, Sampler>::~server() = default;

template <class Store, class Transport, class Sampler>
std::uint16_t server<Store, Transport, Sampler>::port() const {
    return impl_->port();
}

template <class Store, class Transport, class Sampler>
std::string server<Store, Transport, Sampler>::url() const {
    return impl_->url();
}

template <class Store, class Transport, class Sampler>
Store& server<Store, Transport, Sampler>::store() noexcept {
    return impl_->store();
}

template <class Store, class Transport, class Sampler>
const server_config& server<Store, Transport, Sampler>::config() const noexcept {
    return impl_->config();
}

template <class Store, class Transport, class Sampler>
std::size_t server<Store, Transport, Sampler>::ws_connections() const {
    return impl_->ws_connections();
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::recorder() noexcept -> recorder_type& {
    return impl_->recorder();
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::start_run(std::string name, std::string config_json, monitor_options opts)
    -> run_monitor {
    opts.run_name = std::move(name);
    opts.config_json = std::move(config_json);
    return run_monitor(impl_->recorder(), std::move(opts));
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::resume_or_create(monitor_options opts) -> run_monitor {
    return run_monitor::resume_or_create(impl_->recorder(), std::move(opts));
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::get(std::string_view pattern, user_handler h, accepts query) -> server& {
    impl_->add_route("GET", pattern, std::move(h), std::move(query));
    return *this;
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::post(std::string_view pattern, user_handler h, accepts query) -> server& {
    impl_->add_route("POST", pattern, std::move(h), std::move(query));
    return *this;
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::put(std::string_view pattern, user_handler h, accepts query) -> server& {
    impl_->add_route("PUT", pattern, std::move(h), std::move(query));
    return *this;
}

template <class Store, class Transport, class Sampler>
auto server<Store, Transport, Sampler>::del(std::string_view pattern, user_handler h, accepts query) -> server& {
    impl_->add_route("DELETE", pattern, std::move(h), std::move(query));
    return *this;
}

template <class Store, class Transport, class Sampler>
int server<Store, Transport, Sampler>::wait() {
    return impl_->wait();
}

template <class Store, class Transport, class Sampler>
void server<Store, Transport, Sampler>::stop() {
    impl_->stop();
}

}  // namespace tmon
