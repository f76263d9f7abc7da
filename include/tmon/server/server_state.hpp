#pragma once
// What the route handlers and the in-process recorder share: the store, the
// event bus, the command queue, and the helpers that turn a completed write
// into the live events of docs/API.md. Every publish happens after the store
// call returned, so a pushed update is never ahead of what a REST read sees.
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
#include "tmon/server/command_queue.hpp"
#include "tmon/server/event_bus.hpp"
#include "tmon/server/http_error.hpp"
#include "tmon/server/json_out.hpp"
#include "tmon/server/latest_cache.hpp"
#include "tmon/server/request_limits.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

// Shown by /health; the store headers' presets specialise it (tmon/server.hpp).
template <class Store>
inline constexpr std::string_view storage_name_v = "custom";

template <storage Store>
class server_state {
public:
    explicit server_state(Store& store, request_limits limits = {})
        : store_(store), limits_(limits), started_at_(now_seconds()) {
        auto newest = store_.list_events(event_query{.run_id = {}, .after_id = 0, .limit = 1});
        if (!newest.empty()) last_event_id_ = newest.back().id;
    }

    Store& store() noexcept { return store_; }
    event_bus& bus() noexcept { return bus_; }
    command_queue& commands() noexcept { return commands_; }
    double started_at() const noexcept { return started_at_; }
    const request_limits& limits() const noexcept { return limits_; }

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
    static std::string run_message(std::string_view type, const run_info& r) {
        std::string m;
        json_out::json_writer w(m);
        w.begin_object().field("type", type).field("run_id", r.id).key("run");
        json_out::write_run(w, r);
        w.end_object();
        return m;
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
    std::atomic<std::size_t> exports_in_flight_{0};
    detail::latest_cache latest_;
    event_bus bus_;
    command_queue commands_;
    double started_at_;
    std::mutex events_mutex_;
    std::int64_t last_event_id_ = 0;
};

}  // namespace tmon
