#pragma once
// When each run's trainer last wrote, and from which hosts and ranks: the
// `last_seen`, `hosts` and `stale` of a run object. Kept in memory; after a
// restart a run's entry is seeded from its stored updated_at and the hosts of
// its stored system samples (server_state::liveness_of). The server's own
// writes (its events, a status it sets) never touch it.
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tmon {

// A running run whose trainer wrote nothing for stale_after_s seconds is
// stale (a field, an event, a WS message); 0 disables the check. With
// mark_stale_interrupted its status becomes interrupted instead.
struct liveness_config {
    double stale_after_s = 120;
    bool mark_stale_interrupted = false;
};

struct host_seen {
    std::string host{};
    int rank = 0;
    double last_seen = 0;
};

struct run_liveness {
    double last_seen = 0;            // 0: never
    bool stale = false;              // the checker found it silent; cleared by the next trainer write
    std::vector<host_seen> hosts{};  // sorted by rank, then host
};

class liveness_registry {
public:
    // What seen() did to the run's stale flag.
    struct seen_result {
        bool was_stale = false;
        double silent_since = 0;  // last_seen before this write, when it was stale
    };

    // A trainer write at `now`. `host` empty: the run only.
    seen_result seen(const std::string& run_id, std::string_view host, int rank, double now) {
        std::lock_guard lock(mutex_);
        auto& e = entries_[run_id];
        seen_result out{e.stale, e.last_seen};
        e.last_seen = std::max(e.last_seen, now);
        e.stale = false;
        e.watched = true;
        if (!host.empty()) {
            double& t = e.hosts[{rank, std::string(host)}];
            t = std::max(t, now);
        }
        return out;
    }

    bool known(const std::string& run_id) const {
        std::lock_guard lock(mutex_);
        return entries_.count(run_id) != 0;
    }

    // Seeds an entry from stored state unless one exists (a write got there first).
    void seed(const std::string& run_id, double last_seen, const std::vector<host_seen>& hosts) {
        std::lock_guard lock(mutex_);
        auto [it, inserted] = entries_.try_emplace(run_id);
        auto& e = it->second;
        if (inserted) e.last_seen = last_seen;
        for (const auto& h : hosts) {
            double& t = e.hosts[{h.rank, h.host}];
            t = std::max(t, h.last_seen);
        }
    }

    std::optional<run_liveness> view(const std::string& run_id) const {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(run_id);
        if (it == entries_.end()) return std::nullopt;
        run_liveness out{it->second.last_seen, it->second.stale, {}};
        for (const auto& [key, t] : it->second.hosts) out.hosts.push_back({std::get<1>(key), std::get<0>(key), t});
        return out;
    }

    // Watched runs silent since before `cutoff`, not yet marked stale: (run id, last_seen).
    std::vector<std::pair<std::string, double>> silent_since(double cutoff) const {
        std::lock_guard lock(mutex_);
        std::vector<std::pair<std::string, double>> out;
        for (const auto& [id, e] : entries_)
            if (e.watched && !e.stale && e.last_seen < cutoff) out.emplace_back(id, e.last_seen);
        return out;
    }

    // Marks the run stale unless a write came in since the checker looked.
    bool mark_stale(const std::string& run_id, double last_seen) {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(run_id);
        if (it == entries_.end() || it->second.last_seen != last_seen || it->second.stale) return false;
        it->second.stale = true;
        return true;
    }

    // The run is not running: the checker leaves it alone until a trainer writes again.
    void unwatch(const std::string& run_id) {
        std::lock_guard lock(mutex_);
        if (auto it = entries_.find(run_id); it != entries_.end()) it->second.watched = false;
    }

    void forget(const std::string& run_id) {
        std::lock_guard lock(mutex_);
        entries_.erase(run_id);
    }

private:
    struct entry {
        double last_seen = 0;
        bool stale = false;
        bool watched = true;
        std::map<std::tuple<int, std::string>, double> hosts;  // (rank, host) -> last seen
    };

    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
};

}  // namespace tmon
