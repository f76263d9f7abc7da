#pragma once
// Commands for a training process ("load this checkpoint"), kept in memory per
// run: the dashboard writes them, the trainer polls with the last id it saw
// (in-process through server_recorder::poll_commands, remotely over REST).
// Ids are the wall clock in microseconds, or one more than the last id when
// that is later: a trainer polling ?after=<last id it saw> never misses a
// command queued after a server restart, though the queue itself is gone.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"

namespace tmon::detail {

class command_queue {
public:
    explicit command_queue(std::size_t keep_per_run = 1000) : keep_per_run_(keep_per_run), last_id_(now_micros()) {}

    command push(command c) {
        std::lock_guard lock(mutex_);
        last_id_ = std::max(last_id_ + 1, now_micros());
        c.id = last_id_;
        if (c.created_at == 0) c.created_at = now_seconds();
        auto& q = by_run_[c.run_id];
        q.push_back(c);
        if (q.size() > keep_per_run_)
            q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(q.size() - keep_per_run_));
        return c;
    }

    std::vector<command> after(std::string_view run_id, std::int64_t after_id) const {
        std::lock_guard lock(mutex_);
        std::vector<command> out;
        auto it = by_run_.find(run_id);
        if (it == by_run_.end()) return out;
        for (const auto& c : it->second)
            if (c.id > after_id) out.push_back(c);
        return out;
    }

    std::optional<command> find(std::string_view run_id, std::int64_t id) const {
        std::lock_guard lock(mutex_);
        auto it = by_run_.find(run_id);
        if (it == by_run_.end()) return std::nullopt;
        for (const auto& c : it->second)
            if (c.id == id) return c;
        return std::nullopt;
    }

    void erase_run(std::string_view run_id) {
        std::lock_guard lock(mutex_);
        auto it = by_run_.find(run_id);
        if (it != by_run_.end()) by_run_.erase(it);
    }

private:
    static std::int64_t now_micros() {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    std::size_t keep_per_run_;
    mutable std::mutex mutex_;
    std::int64_t last_id_ = 0;
    std::map<std::string, std::vector<command>, std::less<>> by_run_;
};

}  // namespace tmon::detail
