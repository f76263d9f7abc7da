#pragma once
// The latest value of each metric of the runs that were read, kept in memory
// so GET /api/runs/{id}/metrics/latest is answered on the io thread without a
// store read. It must never disagree with the store, so:
// - it applies the store's rule: per key the highest step wins, and a rewrite
//   of that step replaces it (a later write beats an earlier one);
// - a write updates it only after the store call returned, and only when no
//   other write of the same run overlapped it in time (overlapping writes may
//   commit in either order, so the entry is dropped and re-read instead);
// - a run is seeded from a store read taken between seed_begin and seed_end;
//   any write that ended in between makes the seed stale, and it is discarded.
// A loaded entry also means the run exists; deleting a run forgets it, and
// creating one forgets everything (a bounded store may have evicted a run).
#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon::detail {

class latest_cache {
public:
    // Calls f(const std::vector<latest_metric>&) (sorted by key) under the
    // cache's lock and returns true, or returns false when the run is not cached.
    template <class F>
    bool visit(std::string_view run_id, F&& f) const {
        std::lock_guard lock(mutex_);
        auto it = runs_.find(run_id);
        if (it == runs_.end() || !it->second.loaded) return false;
        f(std::as_const(it->second.values));
        return true;
    }

    // Bracket every store write of a run's metrics (write_ended also on failure).
    void write_begun(std::string_view run_id) {
        std::lock_guard lock(mutex_);
        entry& e = at(run_id);
        if (++e.writing > 1) e.overlapped = true;
    }

    void write_ended(std::string_view run_id, std::span<const metric_point> written, bool succeeded) {
        std::lock_guard lock(mutex_);
        auto it = runs_.find(run_id);
        if (it == runs_.end()) return;
        entry& e = it->second;
        --e.writing;
        e.version = ++clock_;
        if (e.loaded && succeeded && !e.overlapped) {
            for (const auto& p : written) apply(e.values, p);
        } else {
            unload(e);
        }
        if (e.writing == 0) {
            e.overlapped = false;
            if (!e.loaded) runs_.erase(it);
        }
    }

    // Seeding: take a token, read the store, then hand in what it said
    // (nullopt: the run does not exist). Returns whether the seed was kept.
    std::uint64_t seed_begin(std::string_view run_id) {
        std::lock_guard lock(mutex_);
        return at(run_id).version;
    }

    bool seed_end(std::string_view run_id, std::uint64_t token, std::optional<std::vector<latest_metric>> values) {
        std::lock_guard lock(mutex_);
        auto it = runs_.find(run_id);
        if (it == runs_.end()) return false;
        entry& e = it->second;
        // A write still in flight is fine: it began before the token, ran
        // alone (or the entry is dropped when it ends), and re-applying it on
        // a read that already saw it changes nothing.
        bool fresh = e.version == token && !e.loaded && values.has_value();
        if (fresh) {
            std::sort(values->begin(), values->end(), [](const auto& a, const auto& b) { return a.key < b.key; });
            e.values = std::move(*values);
            e.loaded = true;
        } else if (!values && !e.loaded && e.writing == 0) {
            runs_.erase(it);
        }
        return fresh;
    }

    void forget(std::string_view run_id) {
        std::lock_guard lock(mutex_);
        if (auto it = runs_.find(run_id); it != runs_.end()) drop(it);
    }

    void forget_all() {
        std::lock_guard lock(mutex_);
        for (auto it = runs_.begin(); it != runs_.end();) drop(it++);
    }

    std::size_t cached_runs() const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(
            std::count_if(runs_.begin(), runs_.end(), [](const auto& kv) { return kv.second.loaded; }));
    }

private:
    struct entry {
        std::uint64_t version = 0;  // from clock_: unique, so a re-created entry never matches an old token
        unsigned writing = 0;
        bool overlapped = false;
        bool loaded = false;
        std::vector<latest_metric> values;  // sorted by key, as the stores list them
    };
    using map = std::map<std::string, entry, std::less<>>;

    entry& at(std::string_view run_id) {
        auto it = runs_.find(run_id);
        if (it == runs_.end()) {
            it = runs_.emplace(std::string(run_id), entry{}).first;
            it->second.version = ++clock_;
        }
        return it->second;
    }

    void unload(entry& e) {
        e.loaded = false;
        e.values.clear();
        e.values.shrink_to_fit();
    }

    // An entry with a write in flight stays (its counter is needed), unloaded.
    void drop(map::iterator it) {
        entry& e = it->second;
        e.version = ++clock_;
        unload(e);
        if (e.writing == 0) runs_.erase(it);
    }

    static void apply(std::vector<latest_metric>& values, const metric_point& p) {
        auto it = std::lower_bound(values.begin(), values.end(), p.key,
                                   [](const latest_metric& m, const std::string& k) { return m.key < k; });
        if (it == values.end() || it->key != p.key) {
            values.insert(it, latest_metric{p.key, p.step, p.time, p.value});
        } else if (p.step >= it->step) {
            it->step = p.step;
            it->time = p.time;
            it->value = p.value;
        }
    }

    mutable std::mutex mutex_;
    map runs_;
    std::uint64_t clock_ = 0;
};

}  // namespace tmon::detail
