#pragma once
// The recorder an in-process monitor writes through when it runs inside a
// server (srv.start_run): every write goes to the store and, once it returned,
// becomes the same live event a REST write would, so WS subscribers see the
// training loop's points. It also hands the monitor its dashboard commands.
// Its writes are the in-process trainer's sign of life (server/liveness.hpp).
// Declarations only: the members are in server_recorder_impl.hpp, which a
// separate-compilation TU does not include (src/server*.cpp compile them).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tmon/core/types.hpp"
#include "tmon/monitor/recorder_concept.hpp"

namespace tmon {

namespace detail {
template <class Store>
class server_state;
}  // namespace detail

template <class Store>  // checked by server (assert_storage names what is missing)
class server_recorder {
public:
    explicit server_recorder(detail::server_state<Store>& state) : state_(state) {}

    run_info create_run(const new_run& r);
    std::optional<run_info> get_run(std::string_view id);
    run_page list_runs(const run_query& q);
    run_info update_run(std::string_view id, const run_update& u);
    void append_metrics(std::string_view run_id, std::span<const metric_point> points);
    checkpoint_info add_checkpoint(const new_checkpoint& c);
    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id);
    checkpoint_info mark_best(std::string_view checkpoint_id);
    void append_system(const system_sample& s);
    void append_layers(const layer_snapshot& l);
    event append_event(const event& e);
    std::vector<command> poll_commands(std::string_view run_id, std::int64_t after_id);
    Store& store() noexcept;

private:
    detail::server_state<Store>& state_;
};

}  // namespace tmon
