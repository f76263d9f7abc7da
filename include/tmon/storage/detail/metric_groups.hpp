#pragma once
// A batch of metric points regrouped by key, once, so whoever walks it (the
// jsonl encoder, the in-memory index) looks each key up once per batch instead
// of once per point, and reads each key's steps, times and values from arrays
// of their own (a thread formatting values reads nothing else). Within a key
// the points keep their write order, so a repeated (key, step) still resolves
// to the last write.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon::detail {

class metric_groups {
public:
    void assign(std::span<const metric_point> points) {
        points_ = points;
        keys_.clear();
        index_.clear();
        distinct_times_.clear();
        group_of_.resize(points.size());
        time_of_.resize(points.size());
        valid_ = true;
        // Points come in runs of one key or round-robin over a step's keys:
        // try the previous point's key, then the one after it, then search.
        // The validity check rides along: this is the one pass over the
        // caller's points, which are cold in cache before it.
        std::uint32_t last = 0;
        std::uint64_t last_time = 0;
        for (std::size_t i = 0; i < points.size(); ++i) {
            const auto& p = points[i];
            std::string_view key = p.key;
            valid_ = valid_ && !key.empty() && std::isfinite(p.value) && std::isfinite(p.time);
            if (keys_.empty() || !same_key(keys_[last], key)) {
                auto next = last + 1 == keys_.size() ? 0 : last + 1;
                last = !keys_.empty() && same_key(keys_[next], key) ? next : group_for(key);
            }
            group_of_[i] = last;
            // Points logged together share their time: one entry for a run of equal times.
            const auto time = std::bit_cast<std::uint64_t>(p.time);
            if (i == 0 || time != last_time) distinct_times_.push_back(p.time), last_time = time;
            time_of_[i] = static_cast<std::uint32_t>(distinct_times_.size() - 1);
        }
        sort_by_group();
    }

    std::span<const metric_point> points() const noexcept { return points_; }
    bool empty() const noexcept { return points_.empty(); }
    // False when a point has an empty key or a non-finite time or value
    // (check_points says which, in the words the API reports).
    bool valid() const noexcept { return valid_; }
    std::size_t size() const noexcept { return keys_.size(); }
    std::string_view key(std::size_t g) const { return keys_[g]; }
    std::size_t group_size(std::size_t g) const { return starts_[g + 1] - starts_[g]; }

    // Group g's points in write order, column by column.
    std::span<const step_t> steps(std::size_t g) const { return column(steps_, g); }
    std::span<const double> times(std::size_t g) const { return column(times_, g); }
    std::span<const double> values(std::size_t g) const { return column(values_, g); }
    // Each point's time as an index into distinct_times().
    std::span<const std::uint32_t> time_indices(std::size_t g) const { return column(time_indices_, g); }
    // The batch's times in write order, a run of equal times once.
    std::span<const double> distinct_times() const noexcept { return distinct_times_; }

private:
    // Batches usually carry a handful of keys: a linear scan beats hashing
    // until there are more than a few.
    static constexpr std::size_t linear_keys = 8;

    template <class T>
    std::span<const T> column(const std::vector<T>& all, std::size_t g) const {
        return {all.data() + starts_[g], starts_[g + 1] - starts_[g]};
    }

    // Keys are short: comparing them inline beats a call to memcmp per point.
    static bool same_key(std::string_view a, std::string_view b) noexcept {
        if (a.size() != b.size()) return false;
        if (a.size() < 8 || a.size() > 16) return a == b;
        std::uint64_t a0, a1, b0, b1;  // two overlapping words cover 8..16 bytes
        std::memcpy(&a0, a.data(), 8);
        std::memcpy(&b0, b.data(), 8);
        std::memcpy(&a1, a.data() + a.size() - 8, 8);
        std::memcpy(&b1, b.data() + b.size() - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }

    std::uint32_t group_for(std::string_view key) {
        if (keys_.size() <= linear_keys) {
            for (std::uint32_t g = 0; g < keys_.size(); ++g)
                if (same_key(keys_[g], key)) return g;
            if (keys_.size() == linear_keys)
                for (std::uint32_t g = 0; g < keys_.size(); ++g) index_.emplace(keys_[g], g);
        } else if (auto it = index_.find(key); it != index_.end()) {
            return it->second;
        }
        auto g = static_cast<std::uint32_t>(keys_.size());
        keys_.push_back(key);
        if (!index_.empty()) index_.emplace(key, g);
        return g;
    }

    // A stable counting sort of the points by group.
    void sort_by_group() {
        starts_.assign(keys_.size() + 1, 0);
        for (auto g : group_of_) ++starts_[g + 1];
        for (std::size_t g = 1; g < starts_.size(); ++g) starts_[g] += starts_[g - 1];
        next_.assign(starts_.begin(), starts_.end() - 1);
        const auto n = points_.size();
        steps_.resize(n);
        times_.resize(n);
        values_.resize(n);
        time_indices_.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto at = next_[group_of_[i]]++;
            steps_[at] = points_[i].step;
            times_[at] = points_[i].time;
            values_[at] = points_[i].value;
            time_indices_[at] = time_of_[i];
        }
    }

    std::span<const metric_point> points_;
    bool valid_ = true;
    std::vector<std::string_view> keys_;
    std::unordered_map<std::string_view, std::uint32_t> index_;
    std::vector<std::uint32_t> group_of_, time_of_, starts_, next_;
    std::vector<step_t> steps_;
    std::vector<double> times_, values_, distinct_times_;
    std::vector<std::uint32_t> time_indices_;
};

}  // namespace tmon::detail
