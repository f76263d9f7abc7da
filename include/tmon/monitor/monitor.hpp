#pragma once
// The training process's handle on one run (the seeds' TrainingMonitor SDK).
//
//   tmon::sqlite_store store{"runs.db"};
//   tmon::monitor mon{store, {.run_name = "resnet", .total_steps = 10'000}};
//   for (...) mon.log(step, {{"loss", loss}, {"lr", lr}});   // never blocks
//   mon.checkpoint("ckpt/step_1000.bin", {{"loss", loss}});
//
// log() only touches a bounded lock-free queue; a flusher thread writes
// batches to the recorder. Everything else (checkpoint, status) is a direct,
// synchronous call that flushes queued points first so the store sees events
// in the order the training loop made them.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tmon/core/clock.hpp"
#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/detail/mpsc_queue.hpp"
#include "tmon/detail/periodic_worker.hpp"
#include "tmon/detail/utf8.hpp"
#include "tmon/monitor/detail/metric_slot.hpp"
#include "tmon/monitor/detail/tick_clock.hpp"
#include "tmon/monitor/monitor_options.hpp"
#include "tmon/monitor/recorder_concept.hpp"
#include "tmon/sampler/no_sampler.hpp"
#include "tmon/sampler/sampler_concept.hpp"

namespace tmon {

// One (key, value) of a log() or checkpoint() call: `{"loss", 0.25}`.
struct metric_kv {
    std::string_view key;
    double value;
};

// Keys longer than this, and keys that are not valid UTF-8, are rejected by
// log() (counted in rejected()).
inline constexpr std::size_t max_metric_key_length = detail::max_metric_key_length;

namespace detail {

// Everything the monitor's threads share lives here, behind a unique_ptr, so
// `monitor` itself can be moved while the threads keep a stable `this`.
template <class R, class S>
class monitor_core {
public:
    monitor_core(R& rec, monitor_options opts, run_info run, bool resumed, std::optional<checkpoint_info> last)
        : rec_(rec),
          opts_(std::move(opts)),
          run_id_(std::move(run.id)),
          resumed_(resumed),
          last_checkpoint_(std::move(last)),
          queue_(std::max<std::size_t>(opts_.queue_capacity, 2)),
          wake_check_mask_(std::max<std::size_t>(queue_.capacity() / 8, 1) - 1),
          uncaught_at_start_(std::uncaught_exceptions()) {
        opts_.max_batch = std::max<std::size_t>(opts_.max_batch, 1);
        batch_.resize(std::min(opts_.max_batch, queue_.capacity()));
        if (opts_.start_flusher) flusher_ = std::thread([this] { flusher_loop(); });
        if constexpr (S::enabled) {
            sampler_worker_.start("sampler", opts_.sample_period, [this] { rec_.append_system(sampler_.sample()); });
        }
    }

    monitor_core(const monitor_core&) = delete;
    monitor_core& operator=(const monitor_core&) = delete;
    ~monitor_core() { stop_threads(); }

    // ---- hot path ---------------------------------------------------------
    void log(step_t step, std::string_view key, double value) noexcept {
        // Every store refuses a batch with a key that is not UTF-8: caught here,
        // one bad key costs its own point, not the whole batch it would travel in.
        if (key.empty() || key.size() > max_metric_key_length || (!is_ascii(key) && !is_valid_utf8(key))) {
            rejected_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        const std::uint64_t ticks = read_ticks();
        std::uint64_t ticket = 0;
        bool pushed = queue_.try_push(
            [&](metric_slot& s) {
                s.step = step;
                s.ticks = ticks;
                s.value = value;
                s.key_length = static_cast<std::uint8_t>(key.size());
                std::memcpy(s.key, key.data(), key.size());
            },
            &ticket);
        if (!pushed) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        // Non-finite points travel to the flusher only to be reported as an event.
        if (!std::isfinite(value)) [[unlikely]]
            rejected_.fetch_add(1, std::memory_order_relaxed);
        // Looking at the fill level costs a read of the consumer's cache line,
        // so only every capacity/8-th ticket does it.
        if ((ticket & wake_check_mask_) == 0 && queue_.approx_size() > queue_.capacity() / 2) [[unlikely]]
            wake_flusher();
    }

    // ---- draining ---------------------------------------------------------
    // Returns when every point pushed before the call has been handed to the
    // recorder (or failed there, which is logged and counted).
    void flush() {
        const std::uint64_t target = queue_.pushed();
        std::lock_guard lock(consumer_mutex_);
        while (queue_.popped() < target) {
            // A producer that claimed a slot but was preempted before filling it.
            if (drain_batch() == 0) std::this_thread::yield();
        }
        drain_layers();
    }

    void enqueue_layers(step_t step, std::vector<layer_stat> layers) {
        layer_snapshot snap{run_id_, step, now_seconds(), std::move(layers)};
        {
            std::lock_guard lock(layers_mutex_);
            // Set here, so only a TU that calls log_layers() compiles the writing
            // of layers (the recorder's append_layers and all it copies).
            write_layers_ = [](monitor_core& self, const layer_snapshot& l) {
                self.guarded("append_layers", [&] { self.rec_.append_layers(l); });
            };
            pending_layers_.push_back(std::move(snap));
        }
        wake_flusher();
    }

    // ---- run lifecycle ------------------------------------------------------
    void finish() noexcept {
        const bool unwinding = std::uncaught_exceptions() > uncaught_at_start_;
        stop_threads();
        guarded("final flush", [&] { flush(); });
        report_losses();
        if (terminal_set_) return;
        guarded("final status", [&] {
            auto current = rec_.get_run(run_id_);
            if (!current || is_terminal(current->status)) return;  // ended elsewhere (dashboard cancel)
            run_update u;
            u.status = unwinding ? run_status::failed : run_status::completed;
            rec_.update_run(run_id_, u);
        });
    }

    void set_status(run_status status) {
        flush();
        run_update u;
        u.status = status;
        rec_.update_run(run_id_, u);
        terminal_set_ = is_terminal(status);
    }

    // The reason goes into the run's event log (the dashboard shows it), then the status.
    void fail(std::string_view reason) {
        flush();
        event e;
        e.run_id = run_id_;
        e.time = now_seconds();
        e.type = "run_failed";
        e.message = std::string(reason.substr(0, 4096));
        rec_.append_event(e);
        set_status(run_status::failed);
    }

    void set_total_steps(step_t n) {
        run_update u;
        u.total_steps = n;
        rec_.update_run(run_id_, u);
    }

    checkpoint_info checkpoint(std::string filepath, std::span<const metric_kv> metrics, std::string metadata_json,
                               std::optional<step_t> step) {
        flush();
        new_checkpoint c;
        c.run_id = run_id_;
        c.filepath = std::move(filepath);
        c.step = step ? step : last_step();
        c.metrics_json = metrics_to_json(metrics);
        c.metadata_json = std::move(metadata_json);
        auto info = rec_.add_checkpoint(c);
        std::lock_guard lock(state_mutex_);
        last_checkpoint_ = info;
        return info;
    }

    checkpoint_info mark_best(std::string_view checkpoint_id) { return rec_.mark_best(checkpoint_id); }

    std::vector<command> poll_commands() {
        if constexpr (recorder_checks::has_poll_commands<R>) {
            std::lock_guard lock(state_mutex_);
            auto commands = rec_.poll_commands(run_id_, last_command_id_);
            for (const auto& c : commands) last_command_id_ = std::max(last_command_id_, c.id);
            return commands;
        } else {
            return {};
        }
    }

    // ---- accessors ----------------------------------------------------------
    const std::string& run_id() const noexcept { return run_id_; }
    R& recorder() noexcept { return rec_; }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }
    std::uint64_t write_errors() const noexcept { return write_errors_.load(std::memory_order_relaxed); }
    std::uint64_t points_written() const noexcept { return points_written_.load(std::memory_order_relaxed); }
    bool is_resumed() const noexcept { return resumed_; }
    std::optional<checkpoint_info> last_checkpoint() const {
        std::lock_guard lock(state_mutex_);
        return last_checkpoint_;
    }
    std::optional<step_t> last_step() const {
        std::lock_guard lock(state_mutex_);
        return last_step_;
    }

private:
    void wake_flusher() noexcept {
        if (!wake_requested_.exchange(true, std::memory_order_acq_rel)) wake_cv_.notify_one();
    }

    void flusher_loop() {
        std::unique_lock lock(wake_mutex_);
        while (!stopping_) {
            wake_cv_.wait_for(lock, opts_.flush_interval,
                              [this] { return stopping_ || wake_requested_.load(std::memory_order_acquire); });
            wake_requested_.store(false, std::memory_order_release);
            lock.unlock();
            drain_available();
            report_losses();
            lock.lock();
        }
    }

    void stop_threads() noexcept {
        sampler_worker_.stop();
        {
            std::lock_guard lock(wake_mutex_);
            stopping_ = true;
        }
        wake_cv_.notify_all();
        if (flusher_.joinable()) flusher_.join();
    }

    void drain_available() {
        std::lock_guard lock(consumer_mutex_);
        while (drain_batch() == batch_.size()) {}
        drain_layers();
    }

    // Pops up to one batch and writes it; returns how many points were popped.
    // Caller holds consumer_mutex_.
    std::size_t drain_batch() {
        clock_.recalibrate();
        std::size_t popped = 0, n = 0;
        metric_slot slot;
        while (n < batch_.size() && queue_.try_pop(slot)) {
            ++popped;
            if (!std::isfinite(slot.value)) [[unlikely]] {
                report_non_finite(slot);
                continue;
            }
            metric_point& p = batch_[n++];
            p.key.assign(slot.key, slot.key_length);  // reuses the string's buffer
            p.step = slot.step;
            p.time = clock_.to_unix(slot.ticks);
            p.value = slot.value;
        }
        if (n > 0) write_batch(std::span<const metric_point>(batch_.data(), n));
        return popped;
    }

    void write_batch(std::span<const metric_point> points) {
        step_t highest = points.front().step;
        for (const auto& p : points) highest = std::max(highest, p.step);
        {
            std::lock_guard lock(state_mutex_);
            last_step_ = last_step_ ? std::max(*last_step_, highest) : highest;
        }
        if (guarded("append_metrics", [&] { rec_.append_metrics(run_id_, points); }))
            points_written_.fetch_add(points.size(), std::memory_order_relaxed);
    }

    void drain_layers() {
        std::vector<layer_snapshot> todo;
        void (*write)(monitor_core&, const layer_snapshot&) = nullptr;
        {
            std::lock_guard lock(layers_mutex_);
            todo.swap(pending_layers_);
            write = write_layers_;
        }
        for (const auto& snap : todo) write(*this, snap);  // set by the enqueue_layers() that queued it
    }

    // A diverging loss should be visible: one event per key, in the run's log.
    void report_non_finite(const metric_slot& slot) {
        std::string key{slot.key_view()};
        if (!non_finite_keys_.insert(key).second) return;
        const char* what = std::isnan(slot.value) ? "nan" : (slot.value > 0 ? "inf" : "-inf");
        event e;
        e.run_id = run_id_;
        e.time = clock_.to_unix(slot.ticks);
        e.type = "non_finite_value";
        e.message = fmt::format("{} was {} at step {}; non-finite values are not stored", key, what, slot.step);
        e.data_json.clear();
        detail::json_writer(e.data_json)
            .begin_object()
            .field("key", key)
            .field("step", static_cast<std::int64_t>(slot.step))
            .field("value", what)
            .end_object();
        tmon::log(log_level::warn, "monitor", "run {}: {}", run_id_, e.message);
        guarded("append_event", [&] { rec_.append_event(e); });
    }

    // The hot path cannot log; the flusher reports drops, at most every 30 s.
    void report_losses() noexcept {
        auto dropped = dropped_.load(std::memory_order_relaxed);
        if (dropped == dropped_reported_) return;
        auto now = std::chrono::steady_clock::now();
        if (dropped_reported_ != 0 && now - last_drop_warning_ < std::chrono::seconds(30)) return;
        guarded("warning", [&] {
            tmon::log(log_level::warn, "monitor",
                      "run {}: metric queue full ({} slots), {} points dropped so far; the store is not keeping up",
                      run_id_, queue_.capacity(), dropped);
        });
        dropped_reported_ = dropped;
        last_drop_warning_ = now;
    }

    template <class F>
    bool guarded(const char* what, F&& f) noexcept {
        try {
            f();
            return true;
        } catch (const std::exception& e) {
            note_write_error(what, e.what());
        } catch (...) {
            note_write_error(what, "unknown exception");
        }
        return false;
    }

    void note_write_error(const char* what, const char* why) noexcept {
        auto n = write_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
        // Powers of two: a store that fails every batch does not flood the log.
        if ((n & (n - 1)) == 0) {
            try {
                tmon::log(log_level::error, "monitor", "run {}: {} failed ({} failures so far): {}", run_id_, what, n,
                          why);
            } catch (...) {}
        }
    }

    static std::string metrics_to_json(std::span<const metric_kv> metrics) {
        std::string out;
        detail::json_writer w(out);
        w.begin_object();
        for (const auto& m : metrics) w.field(m.key, m.value);
        w.end_object();
        return out;
    }

    R& rec_;
    monitor_options opts_;
    const std::string run_id_;
    const bool resumed_;
    std::optional<checkpoint_info> last_checkpoint_;

    mpsc_queue<metric_slot> queue_;
    const std::uint64_t wake_check_mask_;
    alignas(cache_line) std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<bool> wake_requested_{false};
    alignas(cache_line) std::atomic<std::uint64_t> write_errors_{0};
    std::atomic<std::uint64_t> points_written_{0};

    // Consumer side: whoever holds consumer_mutex_ is the queue's one consumer.
    std::mutex consumer_mutex_;
    std::vector<metric_point> batch_;
    tick_to_wall clock_;
    std::unordered_set<std::string> non_finite_keys_;

    std::mutex layers_mutex_;
    std::vector<layer_snapshot> pending_layers_;
    void (*write_layers_)(monitor_core&, const layer_snapshot&) = nullptr;

    mutable std::mutex state_mutex_;
    std::optional<step_t> last_step_;
    std::int64_t last_command_id_ = 0;

    std::uint64_t dropped_reported_ = 0;
    std::chrono::steady_clock::time_point last_drop_warning_{};
    bool terminal_set_ = false;
    const int uncaught_at_start_;

    std::mutex wake_mutex_;
    std::condition_variable wake_cv_;
    bool stopping_ = false;
    std::thread flusher_;

    S sampler_;
    periodic_worker sampler_worker_;
};

template <class R>
std::optional<run_info> newest_run_named(R& rec, const std::string& name) {
    run_query q;
    q.name_contains = name;  // a case-insensitive substring: filter exact names below
    q.sort = run_sort::created_desc;
    q.limit = 200;
    for (;;) {
        run_page page = rec.list_runs(q);
        for (auto& r : page.runs)
            if (r.name == name) return std::move(r);
        if (page.runs.size() < q.limit) return std::nullopt;
        q.offset += page.runs.size();
    }
}

template <class R>
std::optional<checkpoint_info> newest_checkpoint(R& rec, std::string_view run_id) {
    auto all = rec.list_checkpoints(run_id);
    auto newer = [](const checkpoint_info& a, const checkpoint_info& b) {
        auto sa = a.step.value_or(std::numeric_limits<step_t>::min());
        auto sb = b.step.value_or(std::numeric_limits<step_t>::min());
        return sa != sb ? sa < sb : a.created_at < b.created_at;
    };
    auto it = std::max_element(all.begin(), all.end(), newer);
    if (it == all.end()) return std::nullopt;
    return std::move(*it);
}

}  // namespace detail

template <class R, class S = no_sampler>
class monitor {
    static_assert(assert_recorder<R>());
    static_assert(assert_sampler<S>());
    using core = detail::monitor_core<R, S>;

public:
    // The members other than log() and the counters are defined after the
    // class, not in it: not inline, so that with TMON_SEPARATE_COMPILATION an
    // `extern template` keeps them (and all they call) out of the caller's TU.
    // GCC instantiates an extern template's inline members anyway.

    // Creates a new run named opts.run_name.
    monitor(R& rec, monitor_options opts);

    // Continues the newest run with this name if it did not finish (it is
    // running, interrupted or failed: a crashed or killed job) and sets it back
    // to running; otherwise creates a new run. Then is_resumed() and
    // last_checkpoint() say where to restart from.
    static monitor resume_or_create(R& rec, monitor_options opts);

    monitor(monitor&&) noexcept = default;
    monitor& operator=(monitor&& other) noexcept;

    // Flushes, then marks the run completed, or failed when the monitor is
    // destroyed by an exception unwinding the training loop. A run already
    // given a terminal status (here or from the dashboard) is left as it is.
    ~monitor();

    // The hot path: never blocks, allocates or makes a syscall. Keys longer
    // than max_metric_key_length (95 bytes), empty keys, keys that are not
    // valid UTF-8 and NaN/inf values are counted in rejected(); NaN/inf also produce one "non_finite_value" event
    // per key. A full queue drops the point and counts it in dropped().
    void log(step_t step, std::string_view key, double value) noexcept { core_->log(step, key, value); }
    void log(step_t step, std::initializer_list<metric_kv> metrics) noexcept {
        for (const auto& m : metrics) core_->log(step, m.key, m.value);
    }
    void log(step_t step, std::span<const metric_kv> metrics) noexcept {
        for (const auto& m : metrics) core_->log(step, m.key, m.value);
    }

    // Per-layer statistics are handed to the flusher thread (the store write
    // does not happen on the caller's thread).
    void log_layers(step_t step, std::vector<layer_stat> layers);

    // Returns when everything logged before it has reached the recorder.
    void flush();

    // Records a checkpoint after flushing queued points. `step` defaults to
    // the highest step logged so far. Store errors propagate (tmon::error).
    checkpoint_info checkpoint(std::string filepath, std::initializer_list<metric_kv> metrics = {},
                               std::string metadata_json = "{}", std::optional<step_t> step = std::nullopt);
    checkpoint_info checkpoint(std::string filepath, std::span<const metric_kv> metrics,
                               std::string metadata_json = "{}", std::optional<step_t> step = std::nullopt);

    checkpoint_info mark_best(std::string_view checkpoint_id);

    // Flushes, then changes the status (tmon::error(conflict) for a transition
    // the status rules refuse). A terminal status is left alone by the destructor.
    void set_status(run_status status);

    // Marks the run failed with a reason the event log keeps. A destructor
    // cannot see the exception that unwinds it, so catch it and say why:
    //   try { train(mon); } catch (const std::exception& e) { mon.fail(e.what()); throw; }
    void fail(std::string_view reason);
    void set_total_steps(step_t n);

    // Commands from the dashboard not seen yet (empty when R cannot deliver any).
    std::vector<command> poll_commands();

    const std::string& run_id() const noexcept { return core_->run_id(); }
    R& recorder() noexcept { return core_->recorder(); }
    std::uint64_t dropped() const noexcept { return core_->dropped(); }
    std::uint64_t rejected() const noexcept { return core_->rejected(); }
    // Recorder calls made by the flusher that threw (logged, not propagated).
    std::uint64_t write_errors() const noexcept { return core_->write_errors(); }
    // Points the recorder accepted.
    std::uint64_t points_written() const noexcept { return core_->points_written(); }
    bool is_resumed() const noexcept { return core_->is_resumed(); }
    std::optional<checkpoint_info> last_checkpoint() const;

private:
    // Only resume_or_create() instantiates the resume path (listing runs and
    // checkpoints): a TU that just creates runs does not compile it.
    struct resume_tag {};

    monitor(R& rec, monitor_options opts, resume_tag) {
        check_run_name(opts);
        // A remote recorder knows better (a given run id, its journal).
        std::optional<run_info> previous;
        if constexpr (requires { rec.resume_target(opts.run_name); }) previous = rec.resume_target(opts.run_name);
        else previous = detail::newest_run_named(rec, opts.run_name);
        if (previous && (previous->status == run_status::running || previous->status == run_status::failed ||
                         previous->status == run_status::interrupted)) {
            run_update u;
            u.status = run_status::running;
            if (opts.total_steps) u.total_steps = opts.total_steps;
            run_info run = rec.update_run(previous->id, u);
            auto last = detail::newest_checkpoint(rec, run.id);
            tmon::log(log_level::info, "monitor", "resuming run {} ({})", run.id, run.name);
            core_ = std::make_unique<core>(rec, std::move(opts), std::move(run), true, std::move(last));
            return;
        }
        create(rec, std::move(opts));
    }

    static void check_run_name(const monitor_options& opts) {
        if (opts.run_name.empty()) throw error(errc::invalid_argument, "monitor_options.run_name must not be empty");
    }

    void create(R& rec, monitor_options opts) {
        new_run r;
        r.name = opts.run_name;
        r.config_json = opts.config_json;
        r.tags = opts.tags;
        r.notes = opts.notes;
        r.total_steps = opts.total_steps;
        run_info run = rec.create_run(r);
        core_ = std::make_unique<core>(rec, std::move(opts), std::move(run), false, std::nullopt);
    }

    void finish() noexcept {
        if (core_) core_->finish();
        core_.reset();
    }

    std::unique_ptr<core> core_;
};

// ---- monitor's members, out of the class (see the note at its public:) -----
template <class R, class S>
monitor<R, S>::monitor(R& rec, monitor_options opts) {
    check_run_name(opts);
    create(rec, std::move(opts));
}

template <class R, class S>
monitor<R, S> monitor<R, S>::resume_or_create(R& rec, monitor_options opts) {
    return monitor(rec, std::move(opts), resume_tag{});
}

template <class R, class S>
monitor<R, S>& monitor<R, S>::operator=(monitor&& other) noexcept {
    if (this != &other) {
        finish();
        core_ = std::move(other.core_);
    }
    return *this;
}

template <class R, class S>
monitor<R, S>::~monitor() {
    finish();
}

template <class R, class S>
void monitor<R, S>::log_layers(step_t step, std::vector<layer_stat> layers) {
    core_->enqueue_layers(step, std::move(layers));
}

template <class R, class S>
void monitor<R, S>::flush() {
    core_->flush();
}

template <class R, class S>
checkpoint_info monitor<R, S>::checkpoint(std::string filepath, std::initializer_list<metric_kv> metrics,
                                          std::string metadata_json, std::optional<step_t> step) {
    return core_->checkpoint(std::move(filepath), std::span<const metric_kv>(metrics.begin(), metrics.size()),
                             std::move(metadata_json), step);
}

template <class R, class S>
checkpoint_info monitor<R, S>::checkpoint(std::string filepath, std::span<const metric_kv> metrics,
                                          std::string metadata_json, std::optional<step_t> step) {
    return core_->checkpoint(std::move(filepath), metrics, std::move(metadata_json), step);
}

template <class R, class S>
checkpoint_info monitor<R, S>::mark_best(std::string_view checkpoint_id) {
    return core_->mark_best(checkpoint_id);
}

template <class R, class S>
void monitor<R, S>::set_status(run_status status) {
    core_->set_status(status);
}

template <class R, class S>
void monitor<R, S>::fail(std::string_view reason) {
    core_->fail(reason);
}

template <class R, class S>
void monitor<R, S>::set_total_steps(step_t n) {
    core_->set_total_steps(n);
}

template <class R, class S>
std::vector<command> monitor<R, S>::poll_commands() {
    return core_->poll_commands();
}

template <class R, class S>
std::optional<checkpoint_info> monitor<R, S>::last_checkpoint() const {
    return core_->last_checkpoint();
}

}  // namespace tmon
