#pragma once
// What a storage policy must provide. `tmon::storage<S>` is the concept;
// `tmon::assert_storage<S>()` checks member by member so a user type that
// misses one gets a message naming it, not a page of template noise.
#include <concepts>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon {

namespace detail::storage_checks {
// clang-format off
template <class S> concept has_create_run = requires(S& s, const new_run& r) { { s.create_run(r) } -> std::same_as<run_info>; };
template <class S> concept has_get_run = requires(S& s, std::string_view id) { { s.get_run(id) } -> std::same_as<std::optional<run_info>>; };
template <class S> concept has_list_runs = requires(S& s, const run_query& q) { { s.list_runs(q) } -> std::same_as<run_page>; };
template <class S> concept has_update_run = requires(S& s, std::string_view id, const run_update& u) { { s.update_run(id, u) } -> std::same_as<run_info>; };
template <class S> concept has_delete_run = requires(S& s, std::string_view id) { { s.delete_run(id) } -> std::same_as<bool>; };
template <class S> concept has_append_metrics = requires(S& s, std::string_view id, std::span<const metric_point> p) { s.append_metrics(id, p); };
template <class S> concept has_query_metrics = requires(S& s, const metric_query& q) { { s.query_metrics(q) } -> std::same_as<metric_series>; };
template <class S> concept has_latest_metrics = requires(S& s, std::string_view id) { { s.latest_metrics(id) } -> std::same_as<std::vector<latest_metric>>; };
template <class S> concept has_metric_keys = requires(S& s, std::string_view id) { { s.metric_keys(id) } -> std::same_as<std::vector<std::string>>; };
template <class S> concept has_add_checkpoint = requires(S& s, const new_checkpoint& c) { { s.add_checkpoint(c) } -> std::same_as<checkpoint_info>; };
template <class S> concept has_get_checkpoint = requires(S& s, std::string_view id) { { s.get_checkpoint(id) } -> std::same_as<std::optional<checkpoint_info>>; };
template <class S> concept has_list_checkpoints = requires(S& s, std::string_view id) { { s.list_checkpoints(id) } -> std::same_as<std::vector<checkpoint_info>>; };
template <class S> concept has_delete_checkpoint = requires(S& s, std::string_view id) { { s.delete_checkpoint(id) } -> std::same_as<bool>; };
template <class S> concept has_mark_best = requires(S& s, std::string_view id) { { s.mark_best(id) } -> std::same_as<checkpoint_info>; };
template <class S> concept has_append_system = requires(S& s, const system_sample& x) { s.append_system(x); };
template <class S> concept has_system_history = requires(S& s, const system_query& q) { { s.system_history(q) } -> std::same_as<std::vector<system_sample>>; };
template <class S> concept has_append_layers = requires(S& s, const layer_snapshot& l) { s.append_layers(l); };
template <class S> concept has_get_layers = requires(S& s, std::string_view id, step_t st) { { s.get_layers(id, st) } -> std::same_as<std::optional<layer_snapshot>>; };
template <class S> concept has_layer_steps = requires(S& s, std::string_view id) { { s.layer_steps(id) } -> std::same_as<std::vector<step_t>>; };
template <class S> concept has_append_event = requires(S& s, const event& e) { { s.append_event(e) } -> std::same_as<event>; };
template <class S> concept has_list_events = requires(S& s, const event_query& q) { { s.list_events(q) } -> std::same_as<std::vector<event>>; };
template <class S> concept has_flush = requires(S& s) { s.flush(); };
// clang-format on
}  // namespace detail::storage_checks

// Semantics every store honours (checked by tests/storage conformance suite):
// - all members are safe to call concurrently from any thread;
// - writes throw tmon::error(not_found) for an unknown run/checkpoint and
//   tmon::error(conflict) for an invalid status transition, changing nothing;
// - a returned write is durable for persistent stores (survives kill -9);
// - metric (key, step) is unique per run: the last write wins, queries never
//   return duplicate steps; series come back in ascending step order;
// - create_run, status changes, checkpoint saves and best changes append their
//   own events in the same write, so the event log cannot disagree with state;
// - at most one checkpoint per run has is_best.
template <class S>
concept storage = detail::storage_checks::has_create_run<S> && detail::storage_checks::has_get_run<S> &&
    detail::storage_checks::has_list_runs<S> && detail::storage_checks::has_update_run<S> &&
    detail::storage_checks::has_delete_run<S> && detail::storage_checks::has_append_metrics<S> &&
    detail::storage_checks::has_query_metrics<S> && detail::storage_checks::has_latest_metrics<S> &&
    detail::storage_checks::has_metric_keys<S> && detail::storage_checks::has_add_checkpoint<S> &&
    detail::storage_checks::has_get_checkpoint<S> && detail::storage_checks::has_list_checkpoints<S> &&
    detail::storage_checks::has_delete_checkpoint<S> && detail::storage_checks::has_mark_best<S> &&
    detail::storage_checks::has_append_system<S> && detail::storage_checks::has_system_history<S> &&
    detail::storage_checks::has_append_layers<S> && detail::storage_checks::has_get_layers<S> &&
    detail::storage_checks::has_layer_steps<S> && detail::storage_checks::has_append_event<S> &&
    detail::storage_checks::has_list_events<S> && detail::storage_checks::has_flush<S>;

template <class S>
constexpr bool assert_storage() {
    using namespace detail::storage_checks;
    static_assert(has_create_run<S>, "Storage must provide: run_info create_run(const new_run&)");
    static_assert(has_get_run<S>, "Storage must provide: std::optional<run_info> get_run(std::string_view id)");
    static_assert(has_list_runs<S>, "Storage must provide: run_page list_runs(const run_query&)");
    static_assert(has_update_run<S>,
                  "Storage must provide: run_info update_run(std::string_view id, const run_update&)");
    static_assert(has_delete_run<S>, "Storage must provide: bool delete_run(std::string_view id)");
    static_assert(has_append_metrics<S>,
                  "Storage must provide: append_metrics(std::string_view run_id, std::span<const metric_point>)");
    static_assert(has_query_metrics<S>, "Storage must provide: metric_series query_metrics(const metric_query&)");
    static_assert(has_latest_metrics<S>,
                  "Storage must provide: std::vector<latest_metric> latest_metrics(std::string_view run_id)");
    static_assert(has_metric_keys<S>,
                  "Storage must provide: std::vector<std::string> metric_keys(std::string_view run_id)");
    static_assert(has_add_checkpoint<S>, "Storage must provide: checkpoint_info add_checkpoint(const new_checkpoint&)");
    static_assert(has_get_checkpoint<S>,
                  "Storage must provide: std::optional<checkpoint_info> get_checkpoint(std::string_view id)");
    static_assert(has_list_checkpoints<S>,
                  "Storage must provide: std::vector<checkpoint_info> list_checkpoints(std::string_view run_id)");
    static_assert(has_delete_checkpoint<S>, "Storage must provide: bool delete_checkpoint(std::string_view id)");
    static_assert(has_mark_best<S>, "Storage must provide: checkpoint_info mark_best(std::string_view checkpoint_id)");
    static_assert(has_append_system<S>, "Storage must provide: append_system(const system_sample&)");
    static_assert(has_system_history<S>,
                  "Storage must provide: std::vector<system_sample> system_history(const system_query&)");
    static_assert(has_append_layers<S>, "Storage must provide: append_layers(const layer_snapshot&)");
    static_assert(
        has_get_layers<S>,
        "Storage must provide: std::optional<layer_snapshot> get_layers(std::string_view run_id, step_t step)");
    static_assert(has_layer_steps<S>, "Storage must provide: std::vector<step_t> layer_steps(std::string_view run_id)");
    static_assert(has_append_event<S>, "Storage must provide: event append_event(const event&)");
    static_assert(has_list_events<S>, "Storage must provide: std::vector<event> list_events(const event_query&)");
    static_assert(has_flush<S>, "Storage must provide: flush()");
    return true;
}

// A store's name as /health reports it; the store headers' presets specialise it
// (tmon/server.hpp, tmon/server_core.hpp), and a custom store may.
template <class Store>
inline constexpr std::string_view storage_name_v = "custom";

}  // namespace tmon
