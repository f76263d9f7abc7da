#pragma once
// One metric series in memory, ascending by step, bounded like a ring: appends
// past the newest step are O(1) amortised; the oldest steps fall off the front.
// Blocks come from the store's block_arena when it has one.
#include <algorithm>
#include <cstddef>
#include <deque>
#include <vector>

#include "tmon/core/types.hpp"
#include "tmon/storage/detail/block_arena.hpp"
#include "tmon/storage/detail/deque_insert.hpp"

namespace tmon::detail {

class series_buffer {
public:
    explicit series_buffer(std::size_t max_points = 0, block_arena* arena = nullptr)
        : max_points_(max_points), points_(point_allocator{arena}) {}

    // Same step again replaces (last write wins); an older step is inserted in place.
    void append(const series_point& p) {
        if (points_.empty() || p.step > points_.back().step) {
            points_.push_back(p);
        } else if (p.step == points_.back().step) {
            points_.back() = p;
        } else {
            auto it = lower_bound(p.step);
            if (it != points_.end() && it->step == p.step) *it = p;
            else deque_insert_at(points_, static_cast<std::size_t>(it - points_.begin()), p);
        }
        if (max_points_ != 0 && points_.size() > max_points_) points_.pop_front();
    }

    std::vector<series_point> range(const metric_query& q) const {
        std::vector<series_point> out;
        for (auto it = lower_bound(q.step_min); it != points_.end() && it->step <= q.step_max; ++it) {
            if (it->time >= q.time_min && it->time <= q.time_max) out.push_back(*it);
        }
        return out;
    }

    bool empty() const noexcept { return points_.empty(); }
    std::size_t size() const noexcept { return points_.size(); }
    const series_point& front() const { return points_.front(); }
    const series_point& back() const { return points_.back(); }

private:
    using point_allocator = arena_allocator<series_point>;
    using point_deque = std::deque<series_point, point_allocator>;

    point_deque::const_iterator lower_bound(step_t step) const {
        return std::lower_bound(points_.begin(), points_.end(), step,
                                [](const series_point& a, step_t s) { return a.step < s; });
    }
    point_deque::iterator lower_bound(step_t step) {
        return std::lower_bound(points_.begin(), points_.end(), step,
                                [](const series_point& a, step_t s) { return a.step < s; });
    }

    std::size_t max_points_;
    point_deque points_;
};

}  // namespace tmon::detail
