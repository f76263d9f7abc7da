#pragma once
// The remote client's background thread: sends the journal to the server in
// order (metrics merged into batches), acknowledges what the server took,
// retries what it did not with exponential backoff, keeps the run alive with
// heartbeats and fetches commands for the training loop. The training thread
// never waits for any of it.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tmon/client/client_options.hpp"
#include "tmon/client/detail/client_connection.hpp"
#include "tmon/client/detail/journal.hpp"
#include "tmon/client/detail/wire.hpp"
#include "tmon/core/log.hpp"
#include "tmon/detail/ids.hpp"

namespace tmon::detail {

// 1 s, 2 s, 4 s ... up to the cap, each +-20 %; Retry-After, when given, is a floor.
class backoff {
public:
    backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(std::max(min, max)) {}
    std::chrono::milliseconds next(std::optional<std::chrono::milliseconds> floor = std::nullopt) {
        auto base = min_ * (1ll << std::min(failures_, 20));
        if (base > max_) base = max_;
        ++failures_;
        std::uniform_real_distribution<double> jitter(0.8, 1.2);
        auto d = std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(rng_)));
        return floor && *floor > d ? *floor : d;
    }
    void reset() noexcept { failures_ = 0; }
    int failures() const noexcept { return failures_; }

private:
    std::chrono::milliseconds min_, max_;
    int failures_ = 0;
    std::mt19937_64 rng_{std::random_device{}()};
};

enum class outcome { accepted, rejected, retry };

// 2xx: taken. 408, 429, 5xx, and 401/403/421 (a configuration the user can fix
// without losing data): retry. Any other 4xx: the record itself is bad.
inline outcome classify(int status) noexcept {
    if (status >= 200 && status < 300) return outcome::accepted;
    if (status == 408 || status == 429 || status >= 500 || status == 401 || status == 403 || status == 421)
        return outcome::retry;
    return outcome::rejected;
}

inline std::optional<std::chrono::milliseconds> retry_after(const http::received_response& r) {
    auto v = r.header_value("Retry-After");
    std::int64_t s = 0;
    if (v.empty() || std::from_chars(v.data(), v.data() + v.size(), s).ec != std::errc{} || s < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min<std::int64_t>(s, 3600) * 1000);
}

class sender {
    using clock = std::chrono::steady_clock;

public:
    sender(journal& j, const http_client_options& opts, std::string run_id, std::vector<http::header> headers)
        : journal_(j),
          opts_(opts),
          run_id_(std::move(run_id)),
          conn_(server_url::parse(opts.url), opts.request_timeout, std::move(headers)),
          backoff_(opts.backoff_min, opts.backoff_max),
          cursor_(j.acked_offset()),
          generation_(j.generation()) {
        thread_ = std::thread([this] { loop(); });
    }

    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;
    ~sender() { stop(); }

    // Sends what is left (for at most drain_timeout), then ends the thread.
    void stop() noexcept {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
            drain_deadline_ = clock::now() + opts_.drain_timeout;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
        auto left = journal_.pending_bytes();
        if (left > 0)
            tmon::log(
                log_level::warn, "client",
                "run {}: {} bytes ({} points) not sent yet stay in {}; a trainer with the same run id and rank sends them",
                run_id_, left, journal_.pending_points(), journal_.path().string());
    }

    // Metrics were journaled: wake the sender once a batch is full (the
    // timer sends partial ones; mark_urgent() sends other records at once).
    void notify_batch() {
        if (journal_.pending_points() < opts_.batch_points) return;
        {
            std::lock_guard lock(mutex_);
            wake_ = true;
        }
        cv_.notify_one();
    }

    // Blocks until the journal is empty (true) or the timeout passes.
    bool wait_sent(std::chrono::milliseconds timeout) {
        auto deadline = clock::now() + timeout;
        {
            std::lock_guard lock(mutex_);
            flush_requested_ = true;
            wake_ = true;
        }
        cv_.notify_one();
        std::unique_lock lock(mutex_);
        return sent_cv_.wait_until(lock, deadline, [&] { return journal_.pending_bytes() == 0; });
    }

    void note_dropped(std::uint64_t points) {
        std::lock_guard lock(mutex_);
        dropped_ += points;
        unreported_drops_ += points;
    }

    // Commands fetched from the server and not handed out yet.
    std::vector<command> take_commands(std::int64_t after) {
        std::lock_guard lock(mutex_);
        std::vector<command> out;
        for (auto& c : inbox_)
            if (c.id > after) out.push_back(std::move(c));
        inbox_.clear();
        return out;
    }

    http_client_stats stats() const {
        std::lock_guard lock(mutex_);
        http_client_stats s = stats_;
        s.dropped_points = dropped_;
        s.queued_points = journal_.pending_points();
        s.journal_bytes = journal_.pending_bytes();
        return s;
    }

private:
    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            auto now = clock::now();
            if (stopping_ && (journal_.pending_bytes() == 0 || now >= drain_deadline_)) break;
            auto due = next_due(now);
            if (due > now) {
                cv_.wait_until(lock, due, [&] { return wake_ || (stopping_ && retry_at_ <= clock::now()); });
                wake_ = false;
                continue;
            }
            lock.unlock();
            work(now);
            lock.lock();
        }
    }

    // Caller holds mutex_. When the next piece of work is due.
    clock::time_point next_due(clock::time_point now) const {
        clock::time_point due = now + std::chrono::hours(1);
        if (journal_.pending_bytes() > 0) {
            bool batch_ready =
                stopping_ || flush_requested_ || journal_.pending_points() >= opts_.batch_points || urgent_pending_;
            due = batch_ready ? now : last_post_ + opts_.batch_interval;
            if (stopping_ && drain_deadline_ < due) due = drain_deadline_;
        }
        if (!stopping_) {
            due = std::min(due, last_contact_ + opts_.heartbeat_interval);
            due = std::min(due, last_poll_ + opts_.command_poll_interval);
        }
        due = std::max(due, retry_at_);
        return stopping_ ? std::min(due, drain_deadline_) : due;
    }

    void work(clock::time_point now) {
        try {
            if (journal_.pending_bytes() > 0) send_journal();
            // Unsent records first: the run may not exist on the server before them.
            if (journal_.pending_bytes() > 0) return;
            report_drops();
            if (now - last_contact_ >= opts_.heartbeat_interval) heartbeat();
            if (now - last_poll_ >= opts_.command_poll_interval) poll_commands();
        } catch (const transfer_error& e) {
            failed(e.what(), std::nullopt);
        } catch (const std::exception& e) {
            failed(e.what(), std::nullopt);
        }
    }

    // Sends journal records in order until none is left or one fails.
    void send_journal() {
        for (;;) {
            if (journal_.generation() != generation_) {  // the journal was cut back: start over
                generation_ = journal_.generation();
                cursor_ = journal_.acked_offset();
                one_by_one_until_ = 0;
            }
            auto first = journal_.read(cursor_);
            if (!first) break;
            std::uint64_t end = first->end_offset;
            std::uint64_t points = first->points;
            http::received_response resp;
            if (first->kind == journal_kind::metrics) {
                std::string joined = std::move(first->body);
                // Merge the following metrics records of the same run into one post
                // (one at a time again after a merged post was refused, so only
                // the bad record is dropped).
                // A backlog (catching up after an outage) goes in posts of up to
                // 4 batches: fewer round trips, still far below the server's body limit.
                while (cursor_ >= one_by_one_until_ && points < 4 * opts_.batch_points && joined.size() < (8u << 20)) {
                    auto more = journal_.read(end);
                    if (!more || more->kind != journal_kind::metrics || more->path != first->path) break;
                    if (!joined.empty() && !more->body.empty()) joined.push_back(',');
                    joined.append(more->body);
                    points += more->points;
                    end = more->end_offset;
                }
                resp = conn_.send("POST", first->path, wire::metrics_batch(joined));
            } else {
                resp = conn_.send(first->method, first->path, first->body);
            }
            switch (classify(resp.status)) {
                case outcome::retry:
                    failed(
                        fmt::format("{} {}: HTTP {} {}", first->method, first->path, resp.status, error_detail(resp)),
                        retry_after(resp));
                    return;
                case outcome::rejected:
                    if (end != first->end_offset) {  // a merged batch: find the bad record
                        one_by_one_until_ = end;
                        continue;
                    }
                    rejected(*first, resp);
                    succeeded(0);
                    break;
                case outcome::accepted: succeeded(points); break;
            }
            cursor_ = end;
            journal_.acknowledge(end, points);
            if (journal_.pending_bytes() == 0) {
                std::lock_guard lock(mutex_);
                flush_requested_ = false;
                urgent_pending_ = false;
                sent_cv_.notify_all();
            }
        }
    }

    void rejected(const journal_record& r, const http::received_response& resp) {
        std::uint64_t n;
        {
            std::lock_guard lock(mutex_);
            n = ++stats_.rejected_records;
            stats_.last_error = fmt::format("{} {}: HTTP {} {}", r.method, r.path, resp.status, error_detail(resp));
        }
        if ((n & (n - 1)) == 0)  // 1, 2, 4, 8...: a bad record repeated does not flood the log
            tmon::log(log_level::error, "client",
                      "run {}: the server refused {} {} (HTTP {}: {}); not retried ({} so far)", run_id_, r.method,
                      r.path, resp.status, error_detail(resp), n);
    }

    static std::string error_detail(const http::received_response& r) {
        if (auto doc = wire::parse(r.body)) {
            auto d = wire::str(*doc, "detail");
            if (!d.empty()) return d;
        }
        return r.reason;
    }

    void heartbeat() {
        auto resp =
            conn_.send("POST", "/api/runs/" + run_id_ + "/heartbeat", wire::heartbeat_body(opts_.host, opts_.rank));
        if (classify(resp.status) == outcome::retry)
            return failed(fmt::format("heartbeat: HTTP {}", resp.status), retry_after(resp));
        succeeded(0);
    }

    void poll_commands() {
        last_poll_ = clock::now();
        auto resp = conn_.send("GET", fmt::format("/api/runs/{}/commands?after={}", run_id_, last_command_id_));
        if (resp.status != 200) return;
        auto fresh = wire::read_list<command>(resp.body, "commands", wire::read_command);
        if (fresh.empty()) return;
        std::lock_guard lock(mutex_);
        for (auto& c : fresh) {
            if (c.id <= last_command_id_) continue;
            last_command_id_ = c.id;
            inbox_.push_back(std::move(c));
        }
    }

    // The first post after drops: one warning and one event in the run's log.
    void report_drops() {
        std::uint64_t n;
        {
            std::lock_guard lock(mutex_);
            n = std::exchange(unreported_drops_, 0);
        }
        if (n == 0) return;
        auto message = fmt::format(
            "{} points were dropped: the local journal reached its cap of {} MiB while the server "
            "could not be reached",
            n, opts_.journal_max_bytes >> 20);
        tmon::log(log_level::warn, "client", "run {}: {}", run_id_, message);
        event e;
        e.type = "points_dropped";
        e.message = message;
        e.data_json = fmt::format(R"({{"dropped_points":{},"journal_max_bytes":{}}})", n, opts_.journal_max_bytes);
        bool posted = false;
        try {
            auto resp = conn_.send("POST", "/api/runs/" + run_id_ + "/events", wire::event_body(make_id("evt"), e));
            posted = classify(resp.status) != outcome::retry;
        } catch (...) {
            std::lock_guard lock(mutex_);
            unreported_drops_ += n;
            throw;
        }
        if (!posted) {
            std::lock_guard lock(mutex_);
            unreported_drops_ += n;
        }
    }

    void succeeded(std::uint64_t points) {
        auto now = clock::now();
        last_contact_ = now;
        last_post_ = now;
        bool was_down;
        {
            std::lock_guard lock(mutex_);
            was_down = !stats_.connected && stats_.sent_requests > 0;
            stats_.connected = true;
            stats_.sent_requests += 1;
            stats_.sent_points += points;
            retry_at_ = clock::time_point{};
        }
        if (was_down) tmon::log(log_level::info, "client", "run {}: the server is reachable again", run_id_);
        backoff_.reset();
    }

    void failed(const std::string& why, std::optional<std::chrono::milliseconds> floor) {
        auto delay = backoff_.next(floor);
        bool first;
        {
            std::lock_guard lock(mutex_);
            first = stats_.connected || backoff_.failures() == 1;
            stats_.connected = false;
            stats_.retries += 1;
            stats_.last_error = why;
            retry_at_ = clock::now() + delay;
        }
        if (first)
            tmon::log(log_level::warn, "client", "run {}: cannot reach the server ({}); journaling, retrying in {} ms",
                      run_id_, why, delay.count());
    }

    journal& journal_;
    const http_client_options& opts_;
    const std::string run_id_;
    client_connection conn_;  // the sender thread's own
    backoff backoff_;
    std::uint64_t cursor_;
    std::uint64_t generation_;
    std::uint64_t one_by_one_until_ = 0;
    std::int64_t last_command_id_ = 0;
    clock::time_point last_post_ = clock::now();
    clock::time_point last_contact_{};  // forces a first heartbeat, which announces the host
    clock::time_point last_poll_{};

    mutable std::mutex mutex_;
    std::condition_variable cv_, sent_cv_;
    bool wake_ = false, stopping_ = false, flush_requested_ = false;
    bool urgent_pending_ = false;
    clock::time_point drain_deadline_{};
    clock::time_point retry_at_{};
    http_client_stats stats_;
    std::uint64_t dropped_ = 0, unreported_drops_ = 0;
    std::deque<command> inbox_;
    std::thread thread_;

public:
    // Records other than metrics (checkpoints, status, events) go out without
    // waiting for the batch timer.
    void mark_urgent() {
        {
            std::lock_guard lock(mutex_);
            urgent_pending_ = true;
            wake_ = true;
        }
        cv_.notify_one();
    }
};

}  // namespace tmon::detail
