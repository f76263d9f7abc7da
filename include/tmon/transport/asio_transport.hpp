#pragma once
// HTTP/1.1 + WebSocket on standalone Asio. config.threads io threads, each
// with its own io_context; the acceptor hands connections round-robin to them.
#include <asio.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
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
        state_ = std::make_shared<detail::server_state>();
        state_->config = config;
        state_->handlers = std::move(handlers);
        unsigned threads = config.threads == 0 ? 1 : config.threads;
        for (unsigned i = 0; i < threads; ++i) workers_.push_back(std::make_shared<detail::io_worker>());
        bind(config);
        accept_next();
        for (auto& w : workers_) {
            guards_.push_back(asio::make_work_guard(w->ctx));
            w->thread = std::thread([w] { run_worker(*w); });
        }
        log(log_level::info, "http", "listening on {}:{} with {} io thread(s)", config.host, port_.load(), threads);
    }

    // Closes the listener and every connection, then joins the io threads.
    void stop() {
        if (!acceptor_) return;
        asio::post(workers_.front()->ctx, [this] {
            std::error_code ignored;
            acceptor_->close(ignored);
        });
        for (auto& w : workers_) asio::post(w->ctx, [w] { w->abort_all(); });
        guards_.clear();
        for (auto& w : workers_)
            if (w->thread.joinable()) w->thread.join();
        acceptor_.reset();
        workers_.clear();
        state_.reset();
        port_.store(0);
    }

    std::uint16_t port() const noexcept { return port_.load(); }

private:
    void bind(const transport_config& config) {
        auto& ctx = workers_.front()->ctx;
        try {
            asio::ip::tcp::resolver resolver(ctx);
            auto endpoints = resolver.resolve(config.host, std::to_string(config.port),
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

    void accept_next() {
        auto& worker = workers_[next_worker_++ % workers_.size()];
        acceptor_->async_accept(worker->ctx, [this, worker](std::error_code ec, asio::ip::tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
            if (ec) {
                log(log_level::warn, "http", "accept failed: {}", ec.message());
            } else {
                admit(worker, std::move(socket));
            }
            accept_next();
        });
    }

    void admit(const std::shared_ptr<detail::io_worker>& worker, asio::ip::tcp::socket socket) {
        bool over_cap = state_->connections.fetch_add(1, std::memory_order_relaxed) >= state_->config.limits.max_connections;
        if (over_cap) state_->connections.fetch_sub(1, std::memory_order_relaxed);
        auto conn = std::make_shared<detail::http_connection>(std::move(socket), worker, state_, !over_cap);
        asio::post(worker->ctx, [conn, over_cap] {
            if (over_cap) conn->start_rejected();
            else conn->start();
        });
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

    std::shared_ptr<detail::server_state> state_;
    std::vector<std::shared_ptr<detail::io_worker>> workers_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
    std::optional<asio::ip::tcp::acceptor> acceptor_;
    std::size_t next_worker_ = 0;
    std::atomic<std::uint16_t> port_{0};
};

static_assert(tmon::assert_transport<asio_transport>());

}  // namespace tmon
