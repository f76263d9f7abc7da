#pragma once
// What the monitor writes through: the subset of Storage it uses, its writes
// plus the reads a run's end and resume_or_create need (get_run, list_runs,
// list_checkpoints). Every storage is a recorder; so are the server's
// publishing server_recorder (server/server_recorder.hpp) and the remote
// tmon::http_client (client/http_client.hpp), which journals each write and
// posts it to a server elsewhere. `tmon::assert_recorder<R>()` names the
// missing member.
#include <concepts>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tmon/core/types.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

namespace detail::recorder_checks {
// Optional: a recorder that can deliver dashboard commands ("load this
// checkpoint") to the training process.
template <class R>
concept has_poll_commands = requires(R& r, std::string_view run_id, std::int64_t after_id) {
    { r.poll_commands(run_id, after_id) } -> std::same_as<std::vector<command>>;
};
}  // namespace detail::recorder_checks

template <class R>
concept recorder = detail::storage_checks::has_create_run<R> && detail::storage_checks::has_get_run<R> &&
    detail::storage_checks::has_list_runs<R> && detail::storage_checks::has_update_run<R> &&
    detail::storage_checks::has_append_metrics<R> && detail::storage_checks::has_add_checkpoint<R> &&
    detail::storage_checks::has_list_checkpoints<R> && detail::storage_checks::has_mark_best<R> &&
    detail::storage_checks::has_append_system<R> && detail::storage_checks::has_append_layers<R> &&
    detail::storage_checks::has_append_event<R>;

template <class R>
constexpr bool assert_recorder() {
    using namespace detail::storage_checks;
    static_assert(has_create_run<R>, "Recorder must provide: run_info create_run(const new_run&)");
    static_assert(has_get_run<R>, "Recorder must provide: std::optional<run_info> get_run(std::string_view id)");
    static_assert(has_list_runs<R>, "Recorder must provide: run_page list_runs(const run_query&)");
    static_assert(has_update_run<R>,
                  "Recorder must provide: run_info update_run(std::string_view id, const run_update&)");
    static_assert(has_append_metrics<R>,
                  "Recorder must provide: append_metrics(std::string_view run_id, std::span<const metric_point>)");
    static_assert(has_add_checkpoint<R>,
                  "Recorder must provide: checkpoint_info add_checkpoint(const new_checkpoint&)");
    static_assert(has_list_checkpoints<R>,
                  "Recorder must provide: std::vector<checkpoint_info> list_checkpoints(std::string_view run_id)");
    static_assert(has_mark_best<R>, "Recorder must provide: checkpoint_info mark_best(std::string_view checkpoint_id)");
    static_assert(has_append_system<R>, "Recorder must provide: append_system(const system_sample&)");
    static_assert(has_append_layers<R>, "Recorder must provide: append_layers(const layer_snapshot&)");
    static_assert(has_append_event<R>, "Recorder must provide: event append_event(const event&)");
    return true;
}

}  // namespace tmon
