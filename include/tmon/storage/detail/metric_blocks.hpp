#pragma once
// A block is a run of one series' points packed column-wise into one BLOB:
// n steps (int64), then n times, then n values (double), native byte order.
// Column-wise packing keeps decode a few memcpy's per block, and a block row
// costs one index entry instead of one per point.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon::detail {

struct metric_block {
    step_t first_step = 0, last_step = 0;
    double min_value = 0, max_value = 0;
    std::vector<series_point> points;  // ascending, one per step
    std::string data;                  // encoded
};

// Sorts by step; of equal steps the later one in input order wins.
inline void sort_last_write_wins(std::vector<series_point>& pts) {
    bool strictly_ascending =
        std::adjacent_find(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.step >= b.step; }) == pts.end();
    if (strictly_ascending) return;
    std::stable_sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.step < b.step; });
    std::size_t out = 0;
    for (std::size_t i = 0; i < pts.size(); ++i) {
        if (i + 1 < pts.size() && pts[i + 1].step == pts[i].step) continue;
        pts[out++] = pts[i];
    }
    pts.resize(out);
}

inline void encode_block(metric_block& b) {
    const std::size_t n = b.points.size();
    b.data.resize(n * 24);
    char* steps = b.data.data();
    char* times = steps + n * 8;
    char* values = times + n * 8;
    b.min_value = b.points.front().value;
    b.max_value = b.points.front().value;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& p = b.points[i];
        std::memcpy(steps + i * 8, &p.step, 8);
        std::memcpy(times + i * 8, &p.time, 8);
        std::memcpy(values + i * 8, &p.value, 8);
        b.min_value = std::min(b.min_value, p.value);
        b.max_value = std::max(b.max_value, p.value);
    }
    b.first_step = b.points.front().step;
    b.last_step = b.points.back().step;
}

inline metric_block make_block(std::vector<series_point> pts) {
    metric_block b;
    sort_last_write_wins(pts);
    b.points = std::move(pts);
    encode_block(b);
    return b;
}

// Appends the block's points with step in [lo, hi] to `out`.
inline void decode_block(std::string_view data, step_t lo, step_t hi, std::vector<series_point>& out) {
    const std::size_t n = data.size() / 24;
    const char* steps = data.data();
    const char* times = steps + n * 8;
    const char* values = times + n * 8;
    auto step_at = [&](std::size_t i) {
        step_t s;
        std::memcpy(&s, steps + i * 8, 8);
        return s;
    };
    // Steps are ascending inside a block: binary-search the range's ends.
    std::size_t begin = 0, end = n;
    {
        std::size_t l = 0, r = n;
        while (l < r) {
            std::size_t m = (l + r) / 2;
            if (step_at(m) < lo) l = m + 1;
            else r = m;
        }
        begin = l;
        r = n;
        while (l < r) {
            std::size_t m = (l + r) / 2;
            if (step_at(m) <= hi) l = m + 1;
            else r = m;
        }
        end = l;
    }
    std::size_t base = out.size();
    out.resize(base + (end - begin));
    for (std::size_t i = begin; i < end; ++i) {
        auto& p = out[base + i - begin];
        std::memcpy(&p.step, steps + i * 8, 8);
        std::memcpy(&p.time, times + i * 8, 8);
        std::memcpy(&p.value, values + i * 8, 8);
    }
}

// Blocks arrive in first_step order (the index order: no SQL sort of BLOBs).
// If each starts past the previous one's end (the usual append-only case) the
// concatenation is already the answer; otherwise the blocks are replayed in
// write order (block id) so that a later write of a step wins.
class block_merger {
public:
    explicit block_merger(std::vector<series_point>& out) : points_(out) { points_.clear(); }

    void add(std::int64_t block_id, std::string_view data, step_t first, step_t last, step_t lo, step_t hi) {
        if (!spans_.empty() && first <= max_last_) ordered_ = false;
        max_last_ = spans_.empty() ? last : std::max(max_last_, last);
        std::size_t begin = points_.size();
        decode_block(data, lo, hi, points_);
        spans_.push_back({block_id, begin, points_.size() - begin});
    }

    void finish() {
        if (ordered_) return;
        std::sort(spans_.begin(), spans_.end(), [](const span& a, const span& b) { return a.block_id < b.block_id; });
        std::vector<series_point> by_write;
        by_write.reserve(points_.size());
        for (const auto& s : spans_)
            by_write.insert(by_write.end(), points_.begin() + static_cast<std::ptrdiff_t>(s.begin),
                            points_.begin() + static_cast<std::ptrdiff_t>(s.begin + s.count));
        sort_last_write_wins(by_write);
        points_.assign(by_write.begin(), by_write.end());
    }

private:
    struct span {
        std::int64_t block_id;
        std::size_t begin, count;
    };
    std::vector<series_point>& points_;
    std::vector<span> spans_;
    step_t max_last_ = 0;
    bool ordered_ = true;
};

}  // namespace tmon::detail
