#pragma once
// The recorder an in-process monitor writes through when it runs inside a
// server (srv.start_run): every write goes to the store and, once it returned,
// becomes the same live event a REST write would, so WS subscribers see the
// training loop's points. It also hands the monitor its dashboard commands.
// Its writes are the in-process trainer's sign of life (server/liveness.hpp).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tmon/monitor/recorder_concept.hpp"
#include "tmon/server/detail/server_state.hpp"

namespace tmon {

template <class Store>  // checked by server (assert_storage names what is missing)
class server_recorder {
public:
    explicit server_recorder(detail::server_state<Store>& state) : state_(state) {}

    run_info create_run(const new_run& r) {
        bool replay = r.id && store().get_run(*r.id).has_value();
        run_info run = store().create_run(r);
        state_.trainer_seen(run.id);
        if (!replay) state_.run_created(run);
        return run;
    }

    std::optional<run_info> get_run(std::string_view id) { return store().get_run(id); }
    run_page list_runs(const run_query& q) { return store().list_runs(q); }

    run_info update_run(std::string_view id, const run_update& u) {
        auto before = store().get_run(id);
        run_info after = store().update_run(id, u);
        if (before) state_.run_updated(*before, after);
        return after;
    }

    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        state_.append_metrics(run_id, std::vector<metric_point>(points.begin(), points.end()));
        state_.trainer_seen(std::string(run_id));
    }

    checkpoint_info add_checkpoint(const new_checkpoint& c) {
        checkpoint_info info = store().add_checkpoint(c);
        state_.trainer_seen(info.run_id);
        state_.checkpoint_saved(info);
        return info;
    }

    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id) { return store().list_checkpoints(run_id); }

    checkpoint_info mark_best(std::string_view checkpoint_id) {
        checkpoint_info info = store().mark_best(checkpoint_id);
        state_.best_changed(info);
        return info;
    }

    void append_system(const system_sample& s) {
        store().append_system(s);
        state_.system_sampled(s);
    }

    void append_layers(const layer_snapshot& l) {
        store().append_layers(l);
        state_.trainer_seen(l.run_id);
        state_.layers_appended(l.run_id, l.step);
    }

    event append_event(const event& e) {
        event written = store().append_event(e);
        if (!e.run_id.empty()) state_.trainer_seen(e.run_id);
        state_.publish_new_events();
        return written;
    }

    std::vector<command> poll_commands(std::string_view run_id, std::int64_t after_id) {
        return state_.commands().after(run_id, after_id);
    }

    Store& store() noexcept { return state_.store(); }

private:
    detail::server_state<Store>& state_;
};

}  // namespace tmon
