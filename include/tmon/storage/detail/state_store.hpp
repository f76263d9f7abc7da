#pragma once
// The Storage members memory_store and jsonl_store share: a memory_state
// behind a reader/writer lock, so dashboards query while training writes.
// The stores differ in their Journal, their options and how they append
// metrics (jsonl_store formats the batch before taking the lock), so each
// defines append_metrics itself.
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tmon/core/types.hpp"
#include "tmon/storage/detail/memory_state.hpp"

namespace tmon::detail {

template <class Journal>
class state_store {
public:
    run_info create_run(const new_run& r);
    std::optional<run_info> get_run(std::string_view id);
    run_page list_runs(const run_query& q);
    run_info update_run(std::string_view id, const run_update& u);
    bool delete_run(std::string_view id);

    metric_series query_metrics(const metric_query& q);
    std::vector<latest_metric> latest_metrics(std::string_view run_id);
    std::vector<std::string> metric_keys(std::string_view run_id);

    checkpoint_info add_checkpoint(const new_checkpoint& c);
    std::optional<checkpoint_info> get_checkpoint(std::string_view id);
    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id);
    bool delete_checkpoint(std::string_view id);
    checkpoint_info mark_best(std::string_view id);

    void append_system(const system_sample& s);
    std::vector<system_sample> system_history(const system_query& q);
    // Optional member (not in the concept): the server seeds a run's hosts from it.
    std::vector<system_sample> system_hosts(std::string_view run_id);

    void append_layers(const layer_snapshot& l);
    std::optional<layer_snapshot> get_layers(std::string_view run_id, step_t step);
    std::vector<step_t> layer_steps(std::string_view run_id);

    event append_event(const event& e);
    std::vector<event> list_events(const event_query& q);

    // Every write has reached the Journal (if any) by the time it returns.
    void flush() {}

protected:
    explicit state_store(memory_limits limits = {}, Journal journal = {}) : state_(limits, std::move(journal)) {}

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

    std::shared_mutex mutex_;
    memory_state<Journal> state_;
};

// The members are defined here, not in the class: not inline, so that with
// TMON_SEPARATE_COMPILATION an `extern template` keeps them, and the whole
// memory_state they call, out of the caller's TU (GCC instantiates an extern
// template's inline members anyway).
template <class Journal>
run_info state_store<Journal>::create_run(const new_run& r) {
    return write([&] { return state_.create_run(r); });
}

template <class Journal>
std::optional<run_info> state_store<Journal>::get_run(std::string_view id) {
    return read([&] { return state_.get_run(id); });
}

template <class Journal>
run_page state_store<Journal>::list_runs(const run_query& q) {
    return read([&] { return state_.list_runs(q); });
}

template <class Journal>
run_info state_store<Journal>::update_run(std::string_view id, const run_update& u) {
    return write([&] { return state_.update_run(id, u); });
}

template <class Journal>
bool state_store<Journal>::delete_run(std::string_view id) {
    return write([&] { return state_.delete_run(id); });
}

template <class Journal>
metric_series state_store<Journal>::query_metrics(const metric_query& q) {
    return read([&] { return state_.query_metrics(q); });
}

template <class Journal>
std::vector<latest_metric> state_store<Journal>::latest_metrics(std::string_view run_id) {
    return read([&] { return state_.latest_metrics(run_id); });
}

template <class Journal>
std::vector<std::string> state_store<Journal>::metric_keys(std::string_view run_id) {
    return read([&] { return state_.metric_keys(run_id); });
}

template <class Journal>
checkpoint_info state_store<Journal>::add_checkpoint(const new_checkpoint& c) {
    return write([&] { return state_.add_checkpoint(c); });
}

template <class Journal>
std::optional<checkpoint_info> state_store<Journal>::get_checkpoint(std::string_view id) {
    return read([&] { return state_.get_checkpoint(id); });
}

template <class Journal>
std::vector<checkpoint_info> state_store<Journal>::list_checkpoints(std::string_view run_id) {
    return read([&] { return state_.list_checkpoints(run_id); });
}

template <class Journal>
bool state_store<Journal>::delete_checkpoint(std::string_view id) {
    return write([&] { return state_.delete_checkpoint(id); });
}

template <class Journal>
checkpoint_info state_store<Journal>::mark_best(std::string_view id) {
    return write([&] { return state_.mark_best(id); });
}

template <class Journal>
void state_store<Journal>::append_system(const system_sample& s) {
    write([&] { state_.append_system(s); });
}

template <class Journal>
std::vector<system_sample> state_store<Journal>::system_history(const system_query& q) {
    return read([&] { return state_.system_history(q); });
}

template <class Journal>
std::vector<system_sample> state_store<Journal>::system_hosts(std::string_view run_id) {
    return read([&] { return state_.system_hosts(run_id); });
}

template <class Journal>
void state_store<Journal>::append_layers(const layer_snapshot& l) {
    write([&] { state_.append_layers(l); });
}

template <class Journal>
std::optional<layer_snapshot> state_store<Journal>::get_layers(std::string_view run_id, step_t step) {
    return read([&] { return state_.get_layers(run_id, step); });
}

template <class Journal>
std::vector<step_t> state_store<Journal>::layer_steps(std::string_view run_id) {
    return read([&] { return state_.layer_steps(run_id); });
}

template <class Journal>
event state_store<Journal>::append_event(const event& e) {
    return write([&] { return state_.append_event(e); });
}

template <class Journal>
std::vector<event> state_store<Journal>::list_events(const event_query& q) {
    return read([&] { return state_.list_events(q); });
}

}  // namespace tmon::detail
