#pragma once
// What the route handlers and the in-process recorder share: the store, the
// event bus, the command queue, and the helpers that turn a completed write
// into the live events of docs/API.md. Every publish happens after the store
// call returned, so a pushed update is never ahead of what a REST read sees.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"
#include "tmon/server/detail/command_queue.hpp"
#include "tmon/server/detail/event_bus.hpp"
#include "tmon/server/detail/latest_cache.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/json_out.hpp"
#include "tmon/server/liveness.hpp"
#include "tmon/server/request_limits.hpp"
#include "tmon/server/trainer_identity.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon::detail {

template <class Store>  // checked by server (assert_storage names what is missing)
class server_state {
public:
    explicit server_state(Store& store, request_limits limits = {}, liveness_config live = {})
        : store_(store), limits_(limits), live_config_(live), started_at_(now_seconds()) {
        auto newest = store_.list_events(event_query{.run_id = {}, .after_id = 0, .limit = 1});
        if (!newest.empty()) last_event_id_ = newest.back().id;
    }

    Store& store() noexcept { return store_; }
    event_bus& bus() noexcept { return bus_; }
    command_queue& commands() noexcept { return commands_; }
    double started_at() const noexcept { return started_at_; }
    const request_limits& limits() const noexcept { return limits_; }
    const liveness_config& liveness_settings() const noexcept { return live_config_; }

    // A slot for building one full export (the whole run in memory), or false
    // when concurrent_exports are already being built.
    bool try_begin_export() {
        std::size_t n = exports_in_flight_.fetch_add(1);
        if (n < limits_.concurrent_exports) return true;
        exports_in_flight_.fetch_sub(1);
        return false;
    }
    void end_export() { exports_in_flight_.fetch_sub(1); }
    static constexpr std::string_view storage_name() noexcept { return storage_name_v<Store>; }

    run_info require_run(std::string_view id) {
        auto r = store_.get_run(id);
        if (!r) throw not_found(fmt::format("run '{}' does not exist", id));
        return std::move(*r);
    }

    // ---- metrics: every append goes through here to keep latest() exact ---
    void append_metrics(std::string_view run_id, std::vector<metric_point> points) {
        latest_.write_begun(run_id);
        try {
            store_.append_metrics(run_id, points);
        } catch (...) {
            latest_.write_ended(run_id, {}, false);
            throw;
        }
        latest_.write_ended(run_id, points, true);
        metrics_appended(std::string(run_id), std::move(points));
    }

    // The run's latest values from memory, without touching the store: calls
    // f(const std::vector<latest_metric>&) and returns true, or returns false
    // when the run is not cached (then read_latest seeds it).
    template <class F>
    bool cached_latest(std::string_view run_id, F&& f) const {
        return latest_.visit(run_id, std::forward<F>(f));
    }

    // A store read of the run's latest values that also seeds the cache.
    // Throws not_found for an unknown run.
    std::vector<latest_metric> read_latest(std::string_view run_id) {
        auto token = latest_.seed_begin(run_id);
        std::optional<std::vector<latest_metric>> values;
        if (store_.get_run(run_id)) values = store_.latest_metrics(run_id);
        bool exists = values.has_value();
        std::vector<latest_metric> out = exists ? *values : std::vector<latest_metric>{};
        latest_.seed_end(run_id, token, std::move(values));
        if (!exists) throw not_found(fmt::format("run '{}' does not exist", run_id));
        return out;
    }

    std::size_t cached_latest_runs() const { return latest_.cached_runs(); }

    checkpoint_info require_checkpoint(std::string_view id) {
        auto c = store_.get_checkpoint(id);
        if (!c) throw not_found(fmt::format("checkpoint '{}' does not exist", id));
        return std::move(*c);
    }

    // ---- liveness: last_seen, hosts, stale (docs/API.md, "Remote trainers") ----
    // What the registry knows of the run, seeded from the store on first sight:
    // last_seen from updated_at, hosts from the run's stored system samples.
    run_liveness liveness_of(const run_info& r) {
        if (auto v = liveness_.view(r.id)) return std::move(*v);
        seed_liveness(r);
        return liveness_.view(r.id).value_or(run_liveness{});
    }

    void write_run(json_out::json_writer& w, const run_info& r) { json_out::write_run(w, r, liveness_of(r)); }
    std::string run_json(const run_info& r) { return json_out::run_json(r, liveness_of(r)); }

    // A write from the run's trainer. A stale run becomes alive again: a
    // run_alive event and a run_stale message with stale false.
    void trainer_seen(const std::string& run_id, const trainer_identity& who = {}) {
        if (!liveness_.known(run_id)) {
            auto r = store_.get_run(run_id);
            if (!r) return;
            seed_liveness(*r);
        }
        // One transition at a time, so run_stale and run_alive reach the log and
        // the bus in the order the registry took them.
        std::lock_guard transitions(liveness_transitions_);
        double now = now_seconds();
        auto was = liveness_.seen(run_id, who.host, who.rank, now);
        if (!was.was_stale) return;
        std::string data;
        json_out::json_writer(data)
            .begin_object()
            .field("last_seen", iso8601(was.silent_since))
            .field("silent_s", now - was.silent_since)
            .field("host", who.host)
            .field("rank", who.rank)
            .end_object();
        append_server_event(run_id, "run_alive",
                            fmt::format("the trainer reports again after {}", format_duration(now - was.silent_since)),
                            std::move(data));
        bus_.publish_message(run_id, stale_message(run_id, false, now));
        publish_new_events();
    }

    // One pass of the stale checker (server.hpp runs it periodically).
    void check_liveness() {
        if (live_config_.stale_after_s <= 0) return;
        if (!seeded_running_) seed_running_runs();
        double now = now_seconds();
        for (const auto& [id, last_seen] : liveness_.silent_since(now - live_config_.stale_after_s)) {
            auto r = store_.get_run(id);
            if (!r) {
                liveness_.forget(id);
                continue;
            }
            if (r->status != run_status::running) {
                liveness_.unwatch(id);
                continue;
            }
            std::lock_guard transitions(liveness_transitions_);
            if (!liveness_.mark_stale(id, last_seen)) continue;
            if (live_config_.mark_stale_interrupted) {
                liveness_.unwatch(id);
                run_update u;
                u.status = run_status::interrupted;
                try {
                    run_info after = store_.update_run(id, u);
                    run_updated(*r, after);
                } catch (const error& e) {  // its status changed meanwhile: nothing to mark
                    log(log_level::info, "server", "run {} not marked interrupted: {}", id, e.what());
                }
                continue;
            }
            std::string data;
            json_out::json_writer(data)
                .begin_object()
                .field("last_seen", iso8601(last_seen))
                .field("silent_s", now - last_seen)
                .field("stale_after_s", live_config_.stale_after_s)
                .end_object();
            append_server_event(id, "run_stale",
                                fmt::format("no report from the trainer for {}", format_duration(now - last_seen)),
                                std::move(data));
            bus_.publish_message(id, stale_message(id, true, last_seen));
            publish_new_events();
        }
    }

    // A command for the run's trainer, with a command_queued event and its live messages.
    command queue_command(command c) {
        c = commands_.push(std::move(c));
        std::string data;
        json_out::json_writer(data).begin_object().field("command_id", c.id).field("command_type", c.type).end_object();
        append_server_event(c.run_id, "command_queued", fmt::format("{} command queued", c.type), std::move(data));
        command_queued(c);
        return c;
    }

    // Per-run system samples go to that run's subscribers as {"type":"system"}.
    void run_system_sampled(const system_sample& s) {
        std::string m;
        json_out::json_writer w(m);
        w.begin_object().field("type", "system").field("run_id", s.run_id).key("sample");
        json_out::write_system_sample(w, s);
        w.end_object();
        bus_.publish_message(s.run_id, std::move(m));
    }

    // ---- live events after a completed write ------------------------------
    void run_created(const run_info& r) {
        latest_.forget_all();  // a bounded store may have evicted its oldest run to make room
        bus_.publish_message(r.id, run_message("run_created", r));
        publish_new_events();
    }

    void run_updated(const run_info& before, const run_info& after) {
        bus_.publish_message(after.id, run_message("run_updated", after));
        if (before.status != after.status) {
            std::string m;
            json_out::json_writer(m)
                .begin_object()
                .field("type", "status_change")
                .field("run_id", after.id)
                .field("old_status", to_string(before.status))
                .field("new_status", to_string(after.status))
                .end_object();
            bus_.publish_message(after.id, std::move(m));
        }
        publish_new_events();
    }

    void run_deleted(const std::string& id) {
        latest_.forget(id);
        liveness_.forget(id);
        commands_.erase_run(id);
        bus_.publish_message(id, simple_message("run_deleted", id));
    }

    void metrics_appended(const std::string& run_id, std::vector<metric_point> points) {
        if (points.empty()) return;
        bus_.publish(live_event{live_event::kind::metrics, run_id, std::move(points), {}});
    }

    void checkpoint_saved(const checkpoint_info& c) {
        std::string m;
        json_out::json_writer w(m);
        w.begin_object()
            .field("type", "checkpoint_saved")
            .field("run_id", c.run_id)
            .field("checkpoint_id", c.id)
            .raw_field("metrics", c.metrics_json.empty() ? "{}" : c.metrics_json)
            .key("checkpoint");
        json_out::write_checkpoint(w, c);
        w.end_object();
        bus_.publish_message(c.run_id, std::move(m));
        if (c.is_best) best_changed(c);
        else publish_new_events();
    }

    void best_changed(const checkpoint_info& c) {
        bus_.publish_message(c.run_id, checkpoint_message("best_changed", c));
        publish_new_events();
    }

    void checkpoint_deleted(const checkpoint_info& c) {
        bus_.publish_message(c.run_id, checkpoint_message("checkpoint_deleted", c));
        publish_new_events();
    }

    void layers_appended(const std::string& run_id, step_t step) {
        std::string m;
        json_out::json_writer(m)
            .begin_object()
            .field("type", "layer_update")
            .field("run_id", run_id)
            .field("step", static_cast<std::int64_t>(step))
            .end_object();
        bus_.publish_message(run_id, std::move(m));
    }

    void command_queued(const command& c) {
        std::string m;
        json_out::json_writer w(m);
        w.begin_object().field("type", "command").field("run_id", c.run_id).key("command");
        json_out::write_command(w, c);
        w.end_object();
        bus_.publish_message(c.run_id, std::move(m));
        publish_new_events();
    }

    void system_sampled(const system_sample& s) {
        std::string m;
        json_out::json_writer w(m);
        w.begin_object().field("type", "system_update");
        json_out::write_system_fields(w, s);
        w.end_object();
        bus_.publish(live_event{live_event::kind::system, {}, {}, std::move(m)});
    }

    // Stores append their own event-log entries inside a write (run_created,
    // status_changed...); this pushes whatever is new as {"type":"event"}.
    void publish_new_events() {
        std::lock_guard lock(events_mutex_);
        auto fresh = store_.list_events(event_query{.run_id = {}, .after_id = last_event_id_, .limit = 1000});
        for (const auto& e : fresh) {
            std::string m;
            json_out::json_writer w(m);
            w.begin_object().field("type", "event").key("event");
            json_out::write_event(w, e);
            w.end_object();
            bus_.publish_message(e.run_id, std::move(m));
            if (e.id > last_event_id_) last_event_id_ = e.id;
        }
    }

private:
    std::string run_message(std::string_view type, const run_info& r) {
        std::string m;
        json_out::json_writer w(m);
        w.begin_object().field("type", type).field("run_id", r.id).key("run");
        write_run(w, r);
        w.end_object();
        return m;
    }

    static std::string stale_message(std::string_view run_id, bool stale, double last_seen) {
        std::string m;
        json_out::json_writer(m)
            .begin_object()
            .field("type", "run_stale")
            .field("run_id", run_id)
            .field("stale", stale)
            .field("last_seen", iso8601(last_seen))
            .end_object();
        return m;
    }

    // "2m05s", "45s", "1h02m"
    static std::string format_duration(double seconds) {
        auto s = static_cast<long long>(seconds < 0 ? 0 : seconds);
        if (s < 60) return fmt::format("{}s", s);
        if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
        return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    }

    // An event the server writes itself: it never counts as the trainer's liveness.
    void append_server_event(const std::string& run_id, std::string type, std::string message, std::string data) {
        event e;
        e.run_id = run_id;
        e.type = std::move(type);
        e.message = std::move(message);
        e.data_json = std::move(data);
        store_.append_event(e);
    }

    void seed_liveness(const run_info& r) {
        std::vector<host_seen> hosts;
        for (const auto& x : stored_hosts(r.id)) hosts.push_back({x.host, x.rank, x.time});
        liveness_.seed(r.id, r.updated_at, hosts);
    }

    // The newest sample of each (host, rank) that reported to the run.
    std::vector<system_sample> stored_hosts(const std::string& run_id) {
        if constexpr (requires { store_.system_hosts(std::string_view{}); }) {
            return store_.system_hosts(run_id);
        } else {
            system_query q;
            q.run_id = run_id;
            q.limit = 10'000;
            std::vector<system_sample> out;
            for (auto& x : store_.system_history(q)) {
                auto same = [&](const system_sample& y) { return y.host == x.host && y.rank == x.rank; };
                auto it = std::find_if(out.begin(), out.end(), same);
                if (it == out.end()) out.push_back(std::move(x));
                else it->time = std::max(it->time, x.time);
            }
            return out;
        }
    }

    // After a restart the checker must know the running runs nobody has looked at yet.
    void seed_running_runs() {
        run_query q;
        q.status = run_status::running;
        q.limit = 1000;
        for (;;) {
            auto page = store_.list_runs(q);
            for (const auto& r : page.runs)
                if (!liveness_.known(r.id)) seed_liveness(r);
            q.offset += page.runs.size();
            if (page.runs.empty() || q.offset >= page.total) break;
        }
        seeded_running_ = true;
    }

    static std::string simple_message(std::string_view type, std::string_view run_id) {
        std::string m;
        json_out::json_writer(m).begin_object().field("type", type).field("run_id", run_id).end_object();
        return m;
    }

    static std::string checkpoint_message(std::string_view type, const checkpoint_info& c) {
        std::string m;
        json_out::json_writer(m)
            .begin_object()
            .field("type", type)
            .field("run_id", c.run_id)
            .field("checkpoint_id", c.id)
            .end_object();
        return m;
    }

    Store& store_;
    request_limits limits_;
    liveness_config live_config_;
    liveness_registry liveness_;
    std::mutex liveness_transitions_;
    bool seeded_running_ = false;  // the checker's thread only
    std::atomic<std::size_t> exports_in_flight_{0};
    detail::latest_cache latest_;
    event_bus bus_;
    command_queue commands_;
    double started_at_;
    std::mutex events_mutex_;
    std::int64_t last_event_id_ = 0;
};

}  // namespace tmon::detail
