#pragma once
// server_recorder's members (server_recorder.hpp declares them): each write goes
// to the store, then becomes the live event a REST write would. Included by
// server_impl.hpp; a TU that separate compilation leaves them out of links them
// from src/server*.cpp.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/server/detail/server_state.hpp"
#include "tmon/server/server_recorder.hpp"

namespace tmon {

template <class Store>
run_info server_recorder<Store>::create_run(const new_run& r) {
    bool replay = r.id && store().get_run(*r.id).has_value();
    run_info run = store().create_run(r);
    state_.trainer_seen(run.id);
    if (!replay) state_.run_created(run);
    return run;
}

template <class Store>
std::optional<run_info> server_recorder<Store>::get_run(std::string_view id) {
    return store().get_run(id);
}

template <class Store>
run_page server_recorder<Store>::list_runs(const run_query& q) {
    return store().list_runs(q);
}

template <class Store>
run_info server_recorder<Store>::update_run(std::string_view id, const run_update& u) {
    auto before = store().get_run(id);
    run_info after = store().update_run(id, u);
    if (before) state_.run_updated(*before, after);
    return after;
}

template <class Store>
void server_recorder<Store>::append_metrics(std::string_view run_id, std::span<const metric_point> points) {
    state_.append_metrics(run_id, std::vector<metric_point>(points.begin(), points.end()));
    state_.trainer_seen(std::string(run_id));
}

template <class Store>
checkpoint_info server_recorder<Store>::add_checkpoint(const new_checkpoint& c) {
    checkpoint_info info = store().add_checkpoint(c);
    state_.trainer_seen(info.run_id);
    state_.checkpoint_saved(info);
    return info;
}

template <class Store>
std::vector<checkpoint_info> server_recorder<Store>::list_checkpoints(std::string_view run_id) {
    return store().list_checkpoints(run_id);
}

template <class Store>
checkpoint_info server_recorder<Store>::mark_best(std::string_view checkpoint_id) {
    checkpoint_info info = store().mark_best(checkpoint_id);
    state_.best_changed(info);
    return info;
}

template <class Store>
void server_recorder<Store>::append_system(const system_sample& s) {
    store().append_system(s);
    state_.system_sampled(s);
}

template <class Store>
void server_recorder<Store>::append_layers(const layer_snapshot& l) {
    store().append_layers(l);
    state_.trainer_seen(l.run_id);
    state_.layers_appended(l.run_id, l.step);
}

template <class Store>
event server_recorder<Store>::append_event(const event& e) {
    event written = store().append_event(e);
    if (!e.run_id.empty()) state_.trainer_seen(e.run_id);
    state_.publish_new_events();
    return written;
}

template <class Store>
std::vector<command> server_recorder<Store>::poll_commands(std::string_view run_id, std::int64_t after_id) {
    return state_.commands().after(run_id, after_id);
}

template <class Store>
Store& server_recorder<Store>::store() noexcept {
    return state_.store();
}

}  // namespace tmon
