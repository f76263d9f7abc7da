#pragma once
// HTTP/1.1 + WebSocket on standalone Asio. config.threads io threads, each
// with its own io_context; the acceptor hands connections round-robin to them.
#include <asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/transport/detail/descriptors.hpp"
#include "tmon/transport/detail/http_connection.hpp"
#include "tmon/transport/detail/io_worker.hpp"
#include "tmon/transport/transport_concept.hpp"

namespace tmon {

class asio_transport {
public:
    asio_transport() = default;
    asio_transport(const asio_transport&) = delete;
    asio_transport& operator=(const asio_transport&) = delete;
    ~asio_transport() { stop(); }

    // Binds and listens before returning, so port() is valid at once.
    void start(const transport_config& config, app_handlers handlers) {
        if (acceptor_) throw error(errc::conflict, "the transport is already started");
        state_ = std::make_shared<detail::transport_state>();
        state_->config = config;
        state_->config.limits = without_zeros(config.limits);
        state_->handlers = std::move(handlers);
        std::size_t cap = connection_cap(config.limits);
        state_->connections.set_caps(cap, config.limits.max_connections_per_client);
        unsigned threads = config.threads == 0 ? 1 : config.threads;
        for (unsigned i = 0; i < threads; ++i) workers_.push_back(std::make_shared<detail::io_worker>());
        bind(config);
        backoff_.emplace(workers_.front()->ctx);
        spare_.reserve();
        accept_next();
        for (auto& w : workers_) {
            guards_.push_back(asio::make_work_guard(w->ctx));
            w->thread = std::thread([w] { run_worker(*w); });
        }
        log(log_level::info, "http", "listening on {}:{} with {} io thread(s), up to {} connections ({} per client)",
            config.host, port_.load(), threads, cap, config.limits.max_connections_per_client);
    }

    // Closes the listener and every connection, then joins the io threads.
    void stop() {
        if (!acceptor_) return;
        asio::post(workers_.front()->ctx, [this] {
            std::error_code ignored;
            acceptor_->close(ignored);
            backoff_->cancel();
        });
        for (auto& w : workers_) asio::post(w->ctx, [w] { w->abort_all(); });
        guards_.clear();
        for (auto& w : workers_)
            if (w->thread.joinable()) w->thread.join();
        backoff_.reset();
        acceptor_.reset();
        workers_.clear();
        state_.reset();
        spare_.release();
        port_.store(0);
    }

    std::uint16_t port() const noexcept { return port_.load(); }

    // Connections holding a place now (HTTP and WebSocket): for tests and metrics.
    std::size_t open_connections() const noexcept { return state_ ? state_->connections.open() : 0; }
    // The connection cap in force: max_connections, lowered to fit the open-file limit.
    std::size_t connection_cap() const noexcept { return state_ ? state_->connections.cap() : 0; }
    // Request body bytes held now against max_inflight_body_bytes.
    std::size_t inflight_body_bytes() const noexcept {
        return state_ ? state_->inflight_body_bytes.load(std::memory_order_relaxed) : 0;
    }
    // Accepts that failed since start (out of descriptors, mostly).
    std::size_t accept_failures() const noexcept { return accept_failures_.load(std::memory_order_relaxed); }

private:
    void bind(const transport_config& config) {
        auto& ctx = workers_.front()->ctx;
        try {
            asio::ip::tcp::resolver resolver(ctx);
            auto endpoints =
                resolver.resolve(config.host, std::to_string(config.port),
                                 asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service);
            auto endpoint = endpoints.begin()->endpoint();
            acceptor_.emplace(ctx);
            acceptor_->open(endpoint.protocol());
            acceptor_->set_option(asio::socket_base::reuse_address(true));
            acceptor_->bind(endpoint);
            acceptor_->listen(asio::socket_base::max_listen_connections);
            port_.store(acceptor_->local_endpoint().port());
        } catch (const std::system_error& e) {
            acceptor_.reset();
            workers_.clear();
            throw error(errc::unavailable,
                        fmt::format("cannot bind {}:{}: {}", config.host, config.port, e.code().message()));
        }
    }

    // A 0 in a limit documented "0: none" becomes a value that is never reached,
    // so that the code enforcing it has no special case.
    static transport_limits without_zeros(transport_limits l) {
        constexpr auto never = std::chrono::hours(24 * 365 * 10);
        constexpr auto unbounded = std::numeric_limits<std::size_t>::max();
        if (l.send_timeout.count() <= 0) l.send_timeout = never;
        if (l.busy_idle_timeout.count() <= 0) l.busy_idle_timeout = l.idle_timeout;
        if (l.max_queued_response_bytes == 0) l.max_queued_response_bytes = unbounded;
        if (l.max_inflight_body_bytes == 0) l.max_inflight_body_bytes = unbounded;
        if (l.max_pipelined_requests == 0) l.max_pipelined_requests = 1;
        return l;
    }

    // max_connections (0: none), lowered so that connections cannot use the
    // descriptors the store and the process need.
    static std::size_t connection_cap(const transport_limits& limits) {
        std::size_t cap =
            limits.max_connections == 0 ? std::numeric_limits<std::size_t>::max() : limits.max_connections;
        if (auto fds = detail::raise_open_file_limit()) {
            std::size_t by_fds = detail::connections_for_descriptors(*fds, limits.fd_reserve);
            if (by_fds < cap)
                log(log_level::info, "http", "open-file limit {}: accepting at most {} connections", *fds, by_fds);
            cap = std::min(cap, by_fds);
        }
        return cap;
    }

    // Runs on the first worker's thread, like every accept handler.
    void accept_next() {
        auto& worker = workers_[next_worker_++ % workers_.size()];
        acceptor_->async_accept(worker->ctx, [this, worker](std::error_code ec, asio::ip::tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
            if (ec) {
                on_accept_error(ec);
                return;
            }
            if (failed_accepts_ > 0 && std::chrono::steady_clock::now() - last_failed_accept_ >= burst_quiet) {
                log(log_level::info, "http", "accepting normally again; {} accepts had failed", failed_accepts_);
                failed_accepts_ = 0;
            }
            backoff_delay_ = min_backoff;
            admit(worker, std::move(socket));
            accept_next();
        });
    }

    // Out of descriptors, retrying at once spins and logs without end. One
    // line when a burst of failures starts, one with their count once accepts
    // have gone burst_quiet without failing; meanwhile the waiting client is
    // shed with a 503 through the spare descriptor, and accepting resumes
    // after a delay that doubles up to 1 s.
    void on_accept_error(std::error_code ec) {
        accept_failures_.fetch_add(1, std::memory_order_relaxed);
        last_failed_accept_ = std::chrono::steady_clock::now();
        if (failed_accepts_++ == 0)
            log(log_level::warn, "http", "accept failed: {}; {}", ec.message(),
                detail::is_resource_exhaustion(ec) ? "shedding new connections with 503 and backing off" : "retrying");
        if (!detail::is_resource_exhaustion(ec)) {
            accept_next();
            return;
        }
        shed_one();
        backoff_->expires_after(backoff_delay_);
        backoff_delay_ = std::min(backoff_delay_ * 2, max_backoff);
        backoff_->async_wait([this](std::error_code wait_ec) {
            if (wait_ec || !acceptor_->is_open()) return;
            accept_next();
        });
    }

    void shed_one() {
        spare_.release();
        std::error_code ec;
        asio::ip::tcp::socket s(workers_.front()->ctx);
        acceptor_->non_blocking(true, ec);
        if (!ec) acceptor_->accept(s, ec);
        if (!ec)
            detail::refuse_now(s, http::error_response(503, "the server is out of file descriptors; try again later"));
        spare_.reserve();
    }

    void admit(const std::shared_ptr<detail::io_worker>& worker, asio::ip::tcp::socket socket) {
        std::error_code ec;
        auto peer = socket.remote_endpoint(ec);
        if (ec) return;  // already gone
        std::string client = peer.address().to_string();
        auto verdict = state_->connections.admit(client);
        if (verdict != detail::admission::admitted) {
            const char* why = verdict == detail::admission::over_cap
                                  ? "the server is at its connection limit; try again later"
                                  : "too many connections from your address; close some and try again";
            auto conn =
                std::make_shared<detail::http_connection>(std::move(socket), worker, state_, detail::connection_slot{});
            asio::post(worker->ctx, [conn, why] { conn->start_rejected(why); });
            return;
        }
        detail::connection_slot slot(state_->connections, std::move(client));
        auto conn = std::make_shared<detail::http_connection>(std::move(socket), worker, state_, std::move(slot));
        asio::post(worker->ctx, [conn] { conn->start(); });
        if (state_->connections.under_load()) shorten_idle_timeouts();
    }

    // At most once a second: every idle keep-alive moves to busy_idle_timeout.
    void shorten_idle_timeouts() {
        auto now = std::chrono::steady_clock::now();
        if (now - last_load_sweep_ < std::chrono::seconds(1)) return;
        last_load_sweep_ = now;
        for (auto& w : workers_) asio::post(w->ctx, [w] { w->under_load(); });
    }

    static void run_worker(detail::io_worker& w) {
        while (true) {
            try {
                w.ctx.run();
                return;
            } catch (const std::exception& e) {
                log(log_level::error, "http", "io thread caught: {}", e.what());
            }
        }
    }

    std::shared_ptr<detail::transport_state> state_;
    std::vector<std::shared_ptr<detail::io_worker>> workers_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
    std::optional<asio::ip::tcp::acceptor> acceptor_;
    std::size_t next_worker_ = 0;

    // The accept loop's state: the first worker's thread only.
    static constexpr std::chrono::milliseconds min_backoff{50};
    static constexpr std::chrono::milliseconds max_backoff{1000};
    std::optional<asio::steady_timer> backoff_;
    std::chrono::milliseconds backoff_delay_ = min_backoff;
    static constexpr std::chrono::seconds burst_quiet{5};
    std::size_t failed_accepts_ = 0;  // in the current burst
    std::chrono::steady_clock::time_point last_failed_accept_{};
    std::chrono::steady_clock::time_point last_load_sweep_{};
    detail::spare_descriptor spare_;
    std::atomic<std::uint16_t> port_{0};
    std::atomic<std::size_t> accept_failures_{0};
};

static_assert(tmon::assert_transport<asio_transport>());

}  // namespace tmon
