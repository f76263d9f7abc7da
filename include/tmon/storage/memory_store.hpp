#pragma once
// A bounded in-memory store: nothing survives the process, nothing grows
// without limit (the layerwise monitor's MAX_RUNS / MAX_STEPS_PER_RUN).
// Readers share a std::shared_mutex so dashboards query while training writes.
#include <cstddef>
#include <mutex>
#include <shared_mutex>

#include "tmon/storage/detail/memory_state.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

// Outside the class so `options o = {}` can be a default argument (a nested
// struct with member initialisers is incomplete inside its enclosing class).
struct memory_store_options {
    std::size_t max_runs = 100;                       // oldest run evicted past this
    std::size_t max_points_per_series = 1'000'000;    // oldest steps evicted past this
    std::size_t max_system_samples = 100'000;
    std::size_t max_events_per_run = 10'000;
    std::size_t max_layer_snapshots_per_run = 1'000;
};

class memory_store {
    template <class F>
    auto read(F&& f) {
        std::shared_lock lock(mutex_);
        return f();
    }
    template <class F>
    auto write(F&& f) {
        std::unique_lock lock(mutex_);
        return f();
    }

public:
    using options = memory_store_options;

    explicit memory_store(options o = {})
        : state_(detail::memory_limits{o.max_runs, o.max_points_per_series, o.max_system_samples,
                                       o.max_events_per_run, o.max_layer_snapshots_per_run}) {}

    run_info create_run(const new_run& r) { return write([&] { return state_.create_run(r); }); }
    std::optional<run_info> get_run(std::string_view id) { return read([&] { return state_.get_run(id); }); }
    run_page list_runs(const run_query& q) { return read([&] { return state_.list_runs(q); }); }
    run_info update_run(std::string_view id, const run_update& u) {
        return write([&] { return state_.update_run(id, u); });
    }
    bool delete_run(std::string_view id) { return write([&] { return state_.delete_run(id); }); }

    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        write([&] { state_.append_metrics(run_id, points); });
    }
    metric_series query_metrics(const metric_query& q) { return read([&] { return state_.query_metrics(q); }); }
    std::vector<latest_metric> latest_metrics(std::string_view run_id) {
        return read([&] { return state_.latest_metrics(run_id); });
    }
    std::vector<std::string> metric_keys(std::string_view run_id) {
        return read([&] { return state_.metric_keys(run_id); });
    }

    checkpoint_info add_checkpoint(const new_checkpoint& c) { return write([&] { return state_.add_checkpoint(c); }); }
    std::optional<checkpoint_info> get_checkpoint(std::string_view id) {
        return read([&] { return state_.get_checkpoint(id); });
    }
    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id) {
        return read([&] { return state_.list_checkpoints(run_id); });
    }
    bool delete_checkpoint(std::string_view id) { return write([&] { return state_.delete_checkpoint(id); }); }
    checkpoint_info mark_best(std::string_view id) { return write([&] { return state_.mark_best(id); }); }

    void append_system(const system_sample& s) { write([&] { state_.append_system(s); }); }
    std::vector<system_sample> system_history(const system_query& q) {
        return read([&] { return state_.system_history(q); });
    }

    void append_layers(const layer_snapshot& l) { write([&] { state_.append_layers(l); }); }
    std::optional<layer_snapshot> get_layers(std::string_view run_id, step_t step) {
        return read([&] { return state_.get_layers(run_id, step); });
    }
    std::vector<step_t> layer_steps(std::string_view run_id) {
        return read([&] { return state_.layer_steps(run_id); });
    }

    event append_event(const event& e) { return write([&] { return state_.append_event(e); }); }
    std::vector<event> list_events(const event_query& q) { return read([&] { return state_.list_events(q); }); }

    void flush() {}

private:
    std::shared_mutex mutex_;
    detail::memory_state<detail::no_journal> state_;
};

static_assert(assert_storage<memory_store>());

}  // namespace tmon
