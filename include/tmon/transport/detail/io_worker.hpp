#pragma once
// One io_context per io thread: every connection lives on exactly one of them,
// so its handlers never run concurrently and it needs no strand or lock.
#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tmon/transport/detail/connection_registry.hpp"
#include "tmon/transport/transport_concept.hpp"

namespace tmon::detail {

// What stop() needs from every open connection, whatever its protocol.
class closable {
public:
    virtual ~closable() = default;
    virtual void abort() = 0;  // close now; called on the connection's own thread
    // Most connection places are taken: an idle keep-alive shortens its
    // timeout (see transport_limits::busy_idle_timeout). Own thread.
    virtual void under_load() {}
};

// A connection with output queued by another thread (see io_worker::request_write).
class pending_writer {
public:
    virtual ~pending_writer() = default;
    virtual void write_pending() = 0;  // on the connection's own thread
};

struct io_worker {
    asio::io_context ctx{1};
    // Touched only on this worker's thread.
    std::unordered_map<closable*, std::weak_ptr<closable>> open;
    std::thread thread;
    bool stopping = false;  // set by abort_all: connections that start later close at once

    void add(const std::shared_ptr<closable>& c) { open.emplace(c.get(), c); }
    void remove(closable* c) { open.erase(c); }

    // Called from any thread: has w->write_pending() run on this thread soon.
    // Requests gather in one list, so a fan-out to many peers costs one post
    // (one lock of the scheduler, one wake-up) instead of one per peer.
    // Held weakly: a connection kept alive by nothing else has nothing to write
    // to, and a strong reference would be a cycle (it holds its worker).
    void request_write(std::weak_ptr<pending_writer> w) {
        {
            std::lock_guard lock(writes_mutex_);
            writes_.push_back(std::move(w));
            if (writes_posted_) return;
            writes_posted_ = true;
        }
        asio::post(ctx, [this] { run_writes(); });
    }

    void under_load() {
        std::vector<std::shared_ptr<closable>> alive;
        for (auto& [ptr, weak] : open)
            if (auto c = weak.lock()) alive.push_back(std::move(c));
        for (auto& c : alive) c->under_load();
    }

    void abort_all() {
        stopping = true;
        std::vector<std::shared_ptr<closable>> alive;
        for (auto& [ptr, weak] : open)
            if (auto c = weak.lock()) alive.push_back(std::move(c));
        for (auto& c : alive) c->abort();
        open.clear();
    }

private:
    void run_writes() {
        {
            std::lock_guard lock(writes_mutex_);
            writes_running_.swap(writes_);
            writes_posted_ = false;
        }
        for (auto& weak : writes_running_)
            if (auto w = weak.lock()) w->write_pending();
        writes_running_.clear();
    }

    std::mutex writes_mutex_;
    std::vector<std::weak_ptr<pending_writer>> writes_;
    std::vector<std::weak_ptr<pending_writer>> writes_running_;  // this thread only; keeps its capacity
    bool writes_posted_ = false;

public:
};

// Shared by the acceptor and every connection; outlives them all.
struct transport_state {
    transport_config config;
    app_handlers handlers;
    connection_registry connections;
    std::atomic<std::size_t> inflight_body_bytes{0};  // see body_budget.hpp
};

// A single timer per connection holding one deadline. Moving the deadline
// later (the common case, once per request) costs no timer operation: the
// pending wait fires at the old time, sees the new deadline and waits again.
class deadline_timer {
public:
    using clock = std::chrono::steady_clock;

    deadline_timer(asio::io_context& ctx, std::function<void()> on_expired)
        : timer_(ctx), on_expired_(std::move(on_expired)) {}

    // owner: kept alive by the pending wait (the connection this timer is in).
    void set(clock::time_point deadline, std::shared_ptr<void> owner) {
        deadline_ = deadline;
        if (!armed_) arm(std::move(owner));
        else if (deadline < timer_.expiry()) timer_.expires_at(deadline);  // the cancelled wait re-arms
    }
    void clear() noexcept { deadline_ = clock::time_point::max(); }
    void cancel() {
        stopped_ = true;
        timer_.cancel();
    }

private:
    void arm(std::shared_ptr<void> owner) {
        if (stopped_ || deadline_ == clock::time_point::max()) return;
        armed_ = true;
        timer_.expires_at(deadline_);
        timer_.async_wait([this, owner = std::move(owner)](std::error_code) mutable {
            armed_ = false;
            if (stopped_) return;
            if (clock::now() >= deadline_) on_expired_();
            else arm(std::move(owner));
        });
    }

    asio::steady_timer timer_;
    std::function<void()> on_expired_;
    clock::time_point deadline_ = clock::time_point::max();
    bool armed_ = false;
    bool stopped_ = false;
};

}  // namespace tmon::detail
