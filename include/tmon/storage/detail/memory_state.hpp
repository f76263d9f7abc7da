#pragma once
// The in-memory model behind memory_store and jsonl_store. Not locked: the
// store around it holds its mutex. Each write is planned first (validated,
// events built), handed to the Journal (which may persist it and may throw,
// leaving the state untouched), and only then applied. Replaying a journal
// calls the same apply_* functions, so a reopened store equals the live one.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "tmon/core/clock.hpp"
#include "tmon/core/downsample.hpp"
#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"
#include "tmon/storage/detail/block_arena.hpp"
#include "tmon/storage/detail/deque_insert.hpp"
#include "tmon/storage/detail/run_listing.hpp"
#include "tmon/storage/detail/series_buffer.hpp"
#include "tmon/storage/detail/store_events.hpp"
#include "tmon/storage/detail/write_checks.hpp"

namespace tmon::detail {

// 0 means unbounded.
struct memory_limits {
    std::size_t max_runs = 0;
    std::size_t max_points_per_series = 0;
    std::size_t max_system_samples = 0;
    std::size_t max_events_per_run = 0;
    std::size_t max_layer_snapshots_per_run = 0;
};

// A journal that keeps nothing: the plain memory store.
struct no_journal {
    void on_run(const run_info&, std::span<const event>) {}
    void on_run_deleted(const std::string&) {}
    void on_metrics(const std::string&, std::span<const metric_point>) {}
    void on_checkpoint_saved(const checkpoint_info&, std::span<const event>) {}
    void on_checkpoint_deleted(const checkpoint_info&, std::span<const event>) {}
    void on_best(const checkpoint_info&, std::span<const event>) {}
    void on_system(const system_sample&) {}
    void on_layers(const layer_snapshot&) {}
    void on_event(const event&) {}
};

template <class T>
void push_bounded(std::deque<T>& d, T value, std::size_t max) {
    d.push_back(std::move(value));
    if (max != 0 && d.size() > max) d.pop_front();
}

template <class Journal>
class memory_state {
public:
    explicit memory_state(memory_limits limits = {}, Journal journal = {})
        : limits_(limits), journal_(std::move(journal)) {}

    Journal& journal() noexcept { return journal_; }

    // ---- runs --------------------------------------------------------------
    run_info create_run(const new_run& r) {
        if (r.id) {
            if (auto* existing = find(*r.id)) {
                check_replay(existing->info, r);
                return existing->info;
            }
        }
        run_info info = make_run(r, now_seconds());
        event ev[] = {numbered(run_created_event(info))};
        journal_.on_run(info, ev);
        apply_run(info);
        apply_event(ev[0]);
        evict_oldest_runs(info.id);
        return info;
    }

    std::optional<run_info> get_run(std::string_view id) const {
        if (auto* rec = find(id)) return rec->info;
        return std::nullopt;
    }

    run_page list_runs(const run_query& q) const {
        std::vector<run_info> matching;
        for (const auto& [id, rec] : runs_)
            if (run_matches(rec.info, q)) matching.push_back(rec.info);
        return page_runs(std::move(matching), q);
    }

    run_info update_run(std::string_view id, const run_update& u) {
        auto& rec = require(id);
        double now = now_seconds();
        run_info updated = apply_update(rec.info, u, now);
        std::vector<event> evs;
        if (updated.status != rec.info.status)
            evs.push_back(numbered(status_changed_event(updated, rec.info.status, now)));
        journal_.on_run(updated, evs);
        apply_run(updated);
        for (auto& e : evs) apply_event(e);
        return updated;
    }

    bool delete_run(std::string_view id) {
        auto it = runs_.find(std::string{id});
        if (it == runs_.end()) return false;
        journal_.on_run_deleted(it->first);
        apply_run_deleted(it->first);
        return true;
    }

    // ---- metrics -----------------------------------------------------------
    // Only for a journal that takes the points themselves (jsonl_journal takes
    // them encoded): a member template, so that an explicit instantiation of
    // the class leaves it out (Clang 14 instantiates constrained members too).
    template <class = void>
    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        auto& rec = require(run_id);
        check_points(points);
        if (points.empty()) return;
        journal_.on_metrics(rec.info.id, points);
        apply_metrics(rec, points, now_seconds());
    }

    // For a journal that encodes outside the store's lock: `groups` is the
    // checked batch grouped by key (a detail::metric_groups, from
    // storage/detail/metric_groups.hpp: a template parameter so that only the
    // stores using it include it), `encoded` what the journal writes for it.
    template <class MetricGroups>
    void append_encoded_metrics(std::string_view run_id, const MetricGroups& groups, std::string_view encoded) {
        auto& rec = require(run_id);
        if (groups.empty()) return;
        journal_.on_encoded_metrics(rec.info.id, encoded);
        apply_metric_groups(rec, groups, now_seconds());
    }

    metric_series query_metrics(const metric_query& q) const {
        metric_series out;
        out.key = q.key;
        auto* rec = find(q.run_id);
        if (!rec) return out;
        auto it = rec->series.find(q.key);
        if (it == rec->series.end()) return out;
        out.points = it->second.range(q);
        out.total_in_range = out.points.size();
        keep_newest(out.points, q.last);
        if (q.max_points != 0 && out.points.size() > q.max_points) {
            out.points = downsample(out.points, q.max_points, q.method);
            out.downsampled = true;
        }
        return out;
    }

    std::vector<latest_metric> latest_metrics(std::string_view run_id) const {
        std::vector<latest_metric> out;
        if (auto* rec = find(run_id)) {
            for (const auto& [key, s] : rec->series) {
                if (s.empty()) continue;
                const auto& p = s.back();
                out.push_back({key, p.step, p.time, p.value});
            }
        }
        return out;
    }

    std::vector<std::string> metric_keys(std::string_view run_id) const {
        std::vector<std::string> out;
        if (auto* rec = find(run_id))
            for (const auto& [key, s] : rec->series) out.push_back(key);
        return out;
    }

    // ---- checkpoints -------------------------------------------------------
    checkpoint_info add_checkpoint(const new_checkpoint& c) {
        auto& rec = require(c.run_id);
        if (c.id) {
            if (auto* existing = find_checkpoint(*c.id)) {
                if (existing->run_id != c.run_id || existing->filepath != c.filepath)
                    throw error(errc::conflict, fmt::format("checkpoint id '{}' already exists", *c.id));
                return *existing;
            }
        }
        double now = now_seconds();
        checkpoint_info info = make_checkpoint(c, now);
        std::vector<event> evs{numbered(checkpoint_saved_event(info, now))};
        if (info.is_best) evs.push_back(numbered(best_changed_event(info, current_best(rec), now), 1));
        journal_.on_checkpoint_saved(info, evs);
        apply_checkpoint_saved(info);
        for (auto& e : evs) apply_event(e);
        return info;
    }

    std::optional<checkpoint_info> get_checkpoint(std::string_view id) const {
        if (auto* c = find_checkpoint(id)) return *c;
        return std::nullopt;
    }

    // Newest first, as the API lists them.
    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id) const {
        std::vector<checkpoint_info> out;
        if (auto* rec = find(run_id)) out.assign(rec->checkpoints.rbegin(), rec->checkpoints.rend());
        return out;
    }

    bool delete_checkpoint(std::string_view id) {
        auto* c = find_checkpoint(id);
        if (!c) return false;
        checkpoint_info info = *c;
        event ev[] = {numbered(checkpoint_deleted_event(info, now_seconds()))};
        journal_.on_checkpoint_deleted(info, ev);
        apply_checkpoint_deleted(info.id);
        apply_event(ev[0]);
        return true;
    }

    checkpoint_info mark_best(std::string_view id) {
        auto* c = find_checkpoint(id);
        if (!c) throw_unknown_checkpoint(id);
        if (c->is_best) return *c;
        auto& rec = require(c->run_id);
        checkpoint_info info = *c;
        info.is_best = true;
        event ev[] = {numbered(best_changed_event(info, current_best(rec), now_seconds()))};
        journal_.on_best(info, ev);
        apply_best(info.id);
        apply_event(ev[0]);
        return info;
    }

    // ---- system ------------------------------------------------------------
    void append_system(const system_sample& s) {
        check_system_sample(s);
        if (!s.run_id.empty()) {
            auto& rec = require(s.run_id);
            journal_.on_system(s);
            apply_system(s);
            touch(rec, now_seconds());
            return;
        }
        journal_.on_system(s);
        apply_system(s);
    }

    // The newest sample time of each (host, rank) that posted to the run, as
    // samples with only run_id, host, rank and time set (sorted by rank, host).
    std::vector<system_sample> system_hosts(std::string_view run_id) const {
        std::vector<system_sample> out;
        if (auto* rec = find(run_id))
            for (const auto& [key, time] : rec->system_hosts) {
                system_sample x;
                x.run_id = rec->info.id;
                x.rank = key.first;
                x.host = key.second;
                x.time = time;
                out.push_back(std::move(x));
            }
        return out;
    }

    std::vector<system_sample> system_history(const system_query& q) const {
        if (!q.run_id.empty()) return run_system_history(q);
        auto lo = std::lower_bound(system_.begin(), system_.end(), q.time_min,
                                   [](const system_sample& s, double t) { return s.time < t; });
        auto hi = std::upper_bound(system_.begin(), system_.end(), q.time_max,
                                   [](double t, const system_sample& s) { return t < s.time; });
        if (hi < lo) hi = lo;
        if (static_cast<std::size_t>(hi - lo) > q.limit) lo = hi - static_cast<std::ptrdiff_t>(q.limit);
        return {lo, hi};
    }

    // ---- layers ------------------------------------------------------------
    void append_layers(const layer_snapshot& l) {
        auto& rec = require(l.run_id);
        check_layers(l);
        journal_.on_layers(l);
        apply_layers(rec, l, now_seconds());
    }

    std::optional<layer_snapshot> get_layers(std::string_view run_id, step_t step) const {
        auto* rec = find(run_id);
        if (!rec) return std::nullopt;
        auto it = rec->layers.upper_bound(step);
        if (it == rec->layers.begin()) return std::nullopt;
        return std::prev(it)->second;
    }

    std::vector<step_t> layer_steps(std::string_view run_id) const {
        std::vector<step_t> out;
        if (auto* rec = find(run_id))
            for (const auto& [step, snap] : rec->layers) out.push_back(step);
        return out;
    }

    // ---- events ------------------------------------------------------------
    event append_event(const event& e) {
        if (!e.run_id.empty()) require(e.run_id);
        check_event(e);
        if (!e.client_id.empty())
            if (auto* stored = find_client_event(e.run_id, e.client_id)) return *stored;  // a replay
        event ev = e;
        double now = now_seconds();
        if (ev.time == 0) ev.time = now;
        if (ev.data_json.empty()) ev.data_json = "{}";
        ev = numbered(std::move(ev));
        journal_.on_event(ev);
        apply_event(ev);
        if (auto* rec = find(ev.run_id)) touch(*rec, now);  // even when the event is dated earlier
        return ev;
    }

    std::vector<event> list_events(const event_query& q) const {
        std::vector<event> out;
        auto take = [&](const std::deque<event>& d) {
            auto it = std::upper_bound(d.begin(), d.end(), q.after_id,
                                       [](std::int64_t id, const event& e) { return id < e.id; });
            out.insert(out.end(), it, d.end());
        };
        if (!q.run_id.empty()) {
            if (auto* rec = find(q.run_id)) take(rec->events);
        } else {
            take(global_events_);
            for (const auto& [id, rec] : runs_) take(rec.events);
            std::sort(out.begin(), out.end(), [](const event& a, const event& b) { return a.id < b.id; });
        }
        if (out.size() > q.limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(q.limit));
        return out;
    }

    // ---- apply: the only functions that change state (live and replay) ------
    void apply_run(const run_info& info) {
        auto [it, inserted] = runs_.try_emplace(info.id);
        if (inserted) {
            it->second.order = next_order_++;
            creation_order_.emplace(it->second.order, info.id);
        }
        it->second.info = info;
    }

    void apply_run_deleted(const std::string& id) {
        auto it = runs_.find(id);
        if (it == runs_.end()) return;
        for (const auto& c : it->second.checkpoints) checkpoint_owner_.erase(c.id);
        creation_order_.erase(it->second.order);
        runs_.erase(it);
    }

    void apply_metrics(const std::string& run_id, std::span<const metric_point> points, double now) {
        if (auto* rec = find(run_id)) apply_metrics(*rec, points, now);
    }

    // One key's points in write order (a replayed metrics line).
    void apply_series(const std::string& run_id, std::string_view key, std::span<const series_point> points,
                      double now) {
        auto* rec = find(run_id);
        if (!rec || points.empty()) return;
        auto& s = series_for(*rec, key);
        step_t max_step = rec->info.last_step.value_or(std::numeric_limits<step_t>::min());
        for (const auto& p : points) {
            s.append(p);
            max_step = std::max(max_step, p.step);
        }
        rec->info.last_step = max_step;
        rec->info.updated_at = std::max(rec->info.updated_at, now);
    }

    void apply_checkpoint_saved(const checkpoint_info& c) {
        auto* rec = find(c.run_id);
        if (!rec) return;
        if (c.is_best)
            for (auto& other : rec->checkpoints) other.is_best = false;
        rec->checkpoints.push_back(c);
        checkpoint_owner_[c.id] = c.run_id;
        rec->info.updated_at = std::max(rec->info.updated_at, c.created_at);
    }

    void apply_checkpoint_deleted(const std::string& id) {
        auto owner = checkpoint_owner_.find(id);
        if (owner == checkpoint_owner_.end()) return;
        if (auto* rec = find(owner->second))
            std::erase_if(rec->checkpoints, [&](const checkpoint_info& c) { return c.id == id; });
        checkpoint_owner_.erase(owner);
    }

    void apply_best(const std::string& id) {
        auto owner = checkpoint_owner_.find(id);
        if (owner == checkpoint_owner_.end()) return;
        if (auto* rec = find(owner->second))
            for (auto& c : rec->checkpoints) c.is_best = (c.id == id);
    }

    void apply_system(const system_sample& s) {
        if (!s.run_id.empty()) {
            auto* rec = find(s.run_id);
            if (!rec) return;
            rec->system[{s.time, s.rank, s.host}] = s;  // (host, rank, time) unique: the last write wins
            double& newest = rec->system_hosts[{s.rank, s.host}];
            newest = std::max(newest, s.time);
            if (limits_.max_system_samples != 0 && rec->system.size() > limits_.max_system_samples)
                rec->system.erase(rec->system.begin());
            touch(*rec, s.time);
            return;
        }
        if (system_.empty() || s.time >= system_.back().time) {
            push_bounded(system_, s, limits_.max_system_samples);
            return;
        }
        auto it = std::upper_bound(system_.begin(), system_.end(), s.time,
                                   [](double t, const system_sample& x) { return t < x.time; });
        deque_insert_at(system_, static_cast<std::size_t>(it - system_.begin()), s);
        if (limits_.max_system_samples != 0 && system_.size() > limits_.max_system_samples) system_.pop_front();
    }

    void apply_layers(const layer_snapshot& l, double now) {
        if (auto* rec = find(l.run_id)) apply_layers(*rec, l, now);
    }

    // Events arrive in id order live; a replay may interleave files, so keep order.
    // Every change to a run (best, deleted checkpoint, a logged event) brings
    // an event, so the event's time is when the run was last updated.
    void apply_event(const event& e) {
        next_event_id_ = std::max(next_event_id_, e.id + 1);
        std::deque<event>* target = &global_events_;
        auto* by_client_id = &global_client_events_;
        if (!e.run_id.empty()) {
            auto* rec = find(e.run_id);
            if (!rec) return;
            target = &rec->events;
            by_client_id = &rec->client_events;
            touch(*rec, e.time);
        }
        // Kept apart from the bounded log, so a replay is recognised after its event was evicted.
        if (!e.client_id.empty() && !by_client_id->try_emplace(e.client_id, e).second) return;
        if (target->empty() || e.id > target->back().id) {
            push_bounded(*target, e, limits_.max_events_per_run);
        } else {
            auto it = std::lower_bound(target->begin(), target->end(), e.id,
                                       [](const event& x, std::int64_t id) { return x.id < id; });
            if (it != target->end() && it->id == e.id) return;
            deque_insert_at(*target, static_cast<std::size_t>(it - target->begin()), e);
            if (limits_.max_events_per_run != 0 && target->size() > limits_.max_events_per_run) target->pop_front();
        }
    }

    std::size_t run_count() const noexcept { return runs_.size(); }

private:
    struct run_record {
        run_info info;
        std::uint64_t order = 0;
        std::map<std::string, series_buffer, std::less<>> series;
        std::vector<checkpoint_info> checkpoints;  // oldest first
        std::map<step_t, layer_snapshot> layers;
        std::deque<event> events;
        std::unordered_map<std::string, event> client_events;  // events given a client id, by that id
        // Trainers' samples by (time, rank, host): ordered by time, one per (host, rank, time).
        std::map<std::tuple<double, int, std::string>, system_sample> system;
        std::map<std::pair<int, std::string>, double> system_hosts;  // (rank, host) -> newest sample time
    };

    const event* find_client_event(std::string_view run_id, const std::string& client_id) const {
        const auto* by_client_id = &global_client_events_;
        if (!run_id.empty()) {
            auto* rec = find(run_id);
            if (!rec) return nullptr;
            by_client_id = &rec->client_events;
        }
        auto it = by_client_id->find(client_id);
        return it == by_client_id->end() ? nullptr : &it->second;
    }

    // Newest `limit` samples in range of the matching hosts and ranks, ascending.
    std::vector<system_sample> run_system_history(const system_query& q) const {
        std::vector<system_sample> out;
        auto* rec = find(q.run_id);
        if (!rec || q.limit == 0) return out;
        auto lo = rec->system.lower_bound({q.time_min, std::numeric_limits<int>::min(), std::string{}});
        auto hi = rec->system.lower_bound(
            {std::nextafter(q.time_max, std::numeric_limits<double>::infinity()), std::numeric_limits<int>::min(), {}});
        if (q.time_max < q.time_min) return out;
        for (auto it = hi; it != lo && out.size() < q.limit;) {
            --it;
            const auto& x = it->second;
            if (!q.host.empty() && x.host != q.host) continue;
            if (q.rank && x.rank != *q.rank) continue;
            out.push_back(x);
        }
        std::reverse(out.begin(), out.end());
        return out;
    }

    run_record* find(std::string_view id) {
        auto it = runs_.find(std::string{id});
        return it == runs_.end() ? nullptr : &it->second;
    }
    const run_record* find(std::string_view id) const {
        auto it = runs_.find(std::string{id});
        return it == runs_.end() ? nullptr : &it->second;
    }
    run_record& require(std::string_view id) {
        if (auto* rec = find(id)) return *rec;
        throw_unknown_run(id);
    }

    checkpoint_info* find_checkpoint(std::string_view id) {
        auto owner = checkpoint_owner_.find(std::string{id});
        if (owner == checkpoint_owner_.end()) return nullptr;
        auto* rec = find(owner->second);
        if (!rec) return nullptr;
        for (auto& c : rec->checkpoints)
            if (c.id == id) return &c;
        return nullptr;
    }
    const checkpoint_info* find_checkpoint(std::string_view id) const {
        return const_cast<memory_state*>(this)->find_checkpoint(id);
    }

    static std::optional<std::string> current_best(const run_record& rec) {
        for (const auto& c : rec.checkpoints)
            if (c.is_best) return c.id;
        return std::nullopt;
    }

    event numbered(event e, std::int64_t offset = 0) const {
        e.id = next_event_id_ + offset;
        return e;
    }

    // Consecutive points usually cycle through a handful of keys: a tiny
    // linear cache beats a map lookup per point.
    void apply_metrics(run_record& rec, std::span<const metric_point> points, double now) {
        struct slot {
            std::string_view key;
            series_buffer* series;
        };
        slot cache[8];
        std::size_t cached = 0, next_victim = 0;
        step_t max_step = rec.info.last_step.value_or(std::numeric_limits<step_t>::min());
        for (const auto& p : points) {
            series_buffer* s = nullptr;
            for (std::size_t i = 0; i < cached; ++i)
                if (cache[i].key == p.key) {
                    s = cache[i].series;
                    break;
                }
            if (!s) {
                s = &series_for(rec, p.key);
                slot& dst = cached < 8 ? cache[cached++] : cache[next_victim++ % 8];
                dst = {p.key, s};
            }
            s->append({p.step, p.time, p.value});
            max_step = std::max(max_step, p.step);
        }
        rec.info.last_step = max_step;
        rec.info.updated_at = std::max(rec.info.updated_at, now);
    }

    template <class MetricGroups>
    void apply_metric_groups(run_record& rec, const MetricGroups& groups, double now) {
        step_t max_step = rec.info.last_step.value_or(std::numeric_limits<step_t>::min());
        for (std::size_t g = 0; g < groups.size(); ++g) {
            auto& s = series_for(rec, groups.key(g));
            const auto steps = groups.steps(g);
            const auto times = groups.times(g);
            const auto values = groups.values(g);
            for (std::size_t i = 0; i < steps.size(); ++i) {
                s.append({steps[i], times[i], values[i]});
                max_step = std::max(max_step, steps[i]);
            }
        }
        rec.info.last_step = max_step;
        rec.info.updated_at = std::max(rec.info.updated_at, now);
    }

    static void touch(run_record& rec, double now) { rec.info.updated_at = std::max(rec.info.updated_at, now); }

    series_buffer& series_for(run_record& rec, std::string_view key) {
        auto it = rec.series.find(key);
        if (it == rec.series.end())
            it = rec.series.emplace(key, series_buffer{limits_.max_points_per_series, arena_.get()}).first;
        return it->second;
    }

    void apply_layers(run_record& rec, const layer_snapshot& l, double now) {
        rec.layers.insert_or_assign(l.step, layer_snapshot(l));  // a move: no copy-assignment of the layers to compile
        if (limits_.max_layer_snapshots_per_run != 0 && rec.layers.size() > limits_.max_layer_snapshots_per_run)
            rec.layers.erase(rec.layers.begin());
        rec.info.updated_at = std::max(rec.info.updated_at, now);
    }

    // Over max_runs, the oldest finished run goes first. Only when every run is
    // still running does one of them go: the one idle longest (a trainer that
    // died without saying so), never the run just created. Each eviction is an
    // event in the server-wide log, since the run's own log goes with it.
    void evict_oldest_runs(const std::string& keep) {
        while (limits_.max_runs != 0 && runs_.size() > limits_.max_runs) {
            const run_record* victim = eviction_candidate(keep);
            if (!victim) break;
            const std::string id = victim->info.id;
            const bool running = victim->info.status == run_status::running;
            const std::string why =
                running
                    ? fmt::format(
                          "run {} ({}) evicted: the memory store keeps {} runs, all of them running, and this one "
                          "had been idle longest (last write {})",
                          id, victim->info.name, limits_.max_runs, iso8601(victim->info.updated_at))
                    : fmt::format(
                          "run {} ({}, {}) evicted: the memory store keeps {} runs and this was the oldest finished one",
                          id, victim->info.name, to_string(victim->info.status), limits_.max_runs);
            log(running ? log_level::warn : log_level::info, "storage", "{}", why);
            journal_.on_run_deleted(id);
            apply_run_deleted(id);
            event e;
            e.type = "run_evicted";
            e.message = why;
            e.data_json = fmt::format(R"({{"run_id":"{}","was_running":{}}})", id, running ? "true" : "false");
            append_event(e);
        }
    }

    const run_record* eviction_candidate(const std::string& keep) const {
        for (const auto& [order, id] : creation_order_) {  // oldest first
            const auto& rec = runs_.at(id);
            if (id != keep && rec.info.status != run_status::running) return &rec;
        }
        const run_record* idlest = nullptr;  // ties go to the oldest
        for (const auto& [order, id] : creation_order_) {
            const auto& rec = runs_.at(id);
            if (id != keep && (!idlest || rec.info.updated_at < idlest->info.updated_at)) idlest = &rec;
        }
        return idlest;
    }

    std::unique_ptr<block_arena> arena_ = std::make_unique<block_arena>();  // outlives the series in runs_
    memory_limits limits_;
    Journal journal_;
    std::unordered_map<std::string, run_record> runs_;
    std::map<std::uint64_t, std::string> creation_order_;
    std::uint64_t next_order_ = 0;
    std::unordered_map<std::string, std::string> checkpoint_owner_;
    std::deque<system_sample> system_;
    std::deque<event> global_events_;
    std::unordered_map<std::string, event> global_client_events_;
    std::int64_t next_event_id_ = 1;
};

}  // namespace tmon::detail
