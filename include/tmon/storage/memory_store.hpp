#pragma once
// A bounded in-memory store: nothing survives the process, nothing grows
// without limit (the layerwise monitor's MAX_RUNS / MAX_STEPS_PER_RUN).
// The members other than append_metrics are detail::state_store's.
#include <cstddef>
#include <span>
#include <string_view>

#include "tmon/storage/detail/state_store.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

// Outside the class so `options o = {}` can be a default argument (a nested
// struct with member initialisers is incomplete inside its enclosing class).
struct memory_store_options {
    std::size_t max_runs = 100;                     // oldest run evicted past this
    std::size_t max_points_per_series = 1'000'000;  // oldest steps evicted past this
    std::size_t max_system_samples = 100'000;
    std::size_t max_events_per_run = 10'000;
    std::size_t max_layer_snapshots_per_run = 1'000;
};

class memory_store : public detail::state_store<detail::no_journal> {
public:
    using options = memory_store_options;

    explicit memory_store(options o = {})
        : state_store(detail::memory_limits{o.max_runs, o.max_points_per_series, o.max_system_samples,
                                            o.max_events_per_run, o.max_layer_snapshots_per_run}) {}

    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        write([&] { state_.append_metrics(run_id, points); });
    }
};

static_assert(assert_storage<memory_store>());

}  // namespace tmon

// Separate compilation (TMON_SEPARATE_COMPILATION, what the tmon::compiled
// target defines): the class templates a TU using memory_store instantiates are
// compiled once, in src/memory_store.cpp, and every other TU only declares them.
// `declare` is `extern` for the declarations and empty for the definitions.
#define TMON_MEMORY_STORE_TEMPLATES(declare)                                   \
    declare template class detail::memory_state<detail::no_journal>;           \
    declare template class detail::state_store<detail::no_journal>;            \
    declare template class detail::monitor_core<memory_store, no_sampler>;     \
    declare template class monitor<memory_store, no_sampler>;                  \
    declare template class detail::monitor_core<memory_store, system_sampler>; \
    declare template class monitor<memory_store, system_sampler>;
#if defined(TMON_SEPARATE_COMPILATION)
#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/system_sampler.hpp"
namespace tmon {
TMON_MEMORY_STORE_TEMPLATES(extern)
}  // namespace tmon
#endif
