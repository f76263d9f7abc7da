#pragma once
// Server-side downsampling to a chart's pixel width. Unlike a reservoir sample
// (TensorBoard) or a stride (W&B), both methods keep the first and last point
// and the global minimum and maximum, so a single loss spike is never hidden.
// Input is in ascending step order; output is a subset of it, same order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon {

// metric_query::last: drops all but the newest n points (n == 0 keeps all).
inline void keep_newest(std::vector<series_point>& pts, std::size_t n) {
    if (n != 0 && pts.size() > n) pts.erase(pts.begin(), pts.end() - static_cast<std::ptrdiff_t>(n));
}

namespace detail {

struct extreme_indices {
    std::size_t min = 0, max = 0;
};

inline extreme_indices find_extremes(std::span<const series_point> pts) {
    extreme_indices e;
    for (std::size_t i = 1; i < pts.size(); ++i) {
        if (pts[i].value < pts[e.min].value) e.min = i;
        if (pts[i].value > pts[e.max].value) e.max = i;
    }
    return e;
}

// Too small to bucket: first and last (or only the last) survive.
inline std::vector<series_point> ends_only(std::span<const series_point> pts, std::size_t max_points) {
    if (max_points == 1) return {pts.back()};
    return {pts.front(), pts.back()};
}

inline std::vector<series_point> gather(std::span<const series_point> pts, const std::vector<std::size_t>& idx) {
    std::vector<series_point> out;
    out.reserve(idx.size());
    for (auto i : idx) out.push_back(pts[i]);
    return out;
}

// LTTB picks one point per bucket by visual area, which can skip an extreme that
// is not the bucket's most "visible" point; swap the extremes back in. picks[0]
// and picks.back() are the first and last point, picks[b] for b in 1..buckets
// the pick of interior bucket b-1, which covers [1 + (b-1)*width, 1 + b*width).
inline void force_extremes(std::vector<std::size_t>& picks, std::size_t n, double width, extreme_indices e) {
    const std::size_t buckets = picks.size() - 2;
    auto bucket_of = [&](std::size_t i) {
        auto b = static_cast<std::size_t>(static_cast<double>(i - 1) / width);
        return std::min(b + 1, buckets);
    };
    auto is_extreme = [&](std::size_t i) { return i == e.min || i == e.max; };
    auto force = [&](std::size_t x) {
        if (x == 0 || x == n - 1) return;
        if (std::find(picks.begin(), picks.end(), x) != picks.end()) return;
        std::size_t b = bucket_of(x);
        if (is_extreme(picks[b])) {
            // Its bucket already holds the other extreme: take a neighbour's slot.
            if (b + 1 <= buckets && !is_extreme(picks[b + 1])) b = b + 1;
            else if (b > 1 && !is_extreme(picks[b - 1])) b = b - 1;
            else return;
        }
        picks[b] = x;
    };
    force(e.max);
    force(e.min);
    // At most two picks moved: an insertion sort puts them back in O(n).
    for (std::size_t i = 1; i < picks.size(); ++i)
        for (std::size_t j = i; j > 0 && picks[j] < picks[j - 1]; --j) std::swap(picks[j], picks[j - 1]);
}

}  // namespace detail

// Largest-Triangle-Three-Buckets (Steinarsson 2013) with step as x.
inline std::vector<series_point> downsample_lttb(std::span<const series_point> pts, std::size_t max_points) {
    const std::size_t n = pts.size();
    if (max_points == 0 || n <= max_points) return {pts.begin(), pts.end()};
    if (max_points < 3) return detail::ends_only(pts, max_points);

    const std::size_t buckets = max_points - 2;
    const double width = static_cast<double>(n - 2) / static_cast<double>(buckets);
    auto bucket_begin = [&](std::size_t b) { return 1 + static_cast<std::size_t>(static_cast<double>(b) * width); };
    auto bucket_end = [&](std::size_t b) {
        return b + 1 == buckets ? n - 1 : 1 + static_cast<std::size_t>(static_cast<double>(b + 1) * width);
    };

    std::vector<std::size_t> picks;
    picks.reserve(max_points);
    picks.push_back(0);
    std::size_t a = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
        // The next bucket's centroid (or the last point) is the triangle's third corner.
        double cx = 0, cy = 0;
        if (b + 1 < buckets) {
            std::size_t nb = bucket_begin(b + 1), ne = bucket_end(b + 1);
            for (std::size_t i = nb; i < ne; ++i) {
                cx += static_cast<double>(pts[i].step);
                cy += pts[i].value;
            }
            cx /= static_cast<double>(ne - nb);
            cy /= static_cast<double>(ne - nb);
        } else {
            cx = static_cast<double>(pts[n - 1].step);
            cy = pts[n - 1].value;
        }
        const double ax = static_cast<double>(pts[a].step), ay = pts[a].value;
        double best_area = -1;
        std::size_t best = bucket_begin(b);
        for (std::size_t i = bucket_begin(b), e = bucket_end(b); i < e; ++i) {
            double area =
                std::abs((ax - cx) * (pts[i].value - ay) - (ax - static_cast<double>(pts[i].step)) * (cy - ay));
            if (area > best_area) {
                best_area = area;
                best = i;
            }
        }
        picks.push_back(best);
        a = best;
    }
    picks.push_back(n - 1);
    detail::force_extremes(picks, n, width, detail::find_extremes(pts));
    return detail::gather(pts, picks);
}

// Min/max buckets: each interior bucket keeps its lowest and highest point, in
// step order, so the envelope of a noisy series is drawn exactly.
inline std::vector<series_point> downsample_minmax(std::span<const series_point> pts, std::size_t max_points) {
    const std::size_t n = pts.size();
    if (max_points == 0 || n <= max_points) return {pts.begin(), pts.end()};
    if (max_points < 4) {
        if (max_points < 3) return detail::ends_only(pts, max_points);
        auto e = detail::find_extremes(pts);
        std::size_t mid = (e.max != 0 && e.max != n - 1) ? e.max : e.min;
        if (mid == 0 || mid == n - 1) mid = n / 2;
        return {pts.front(), pts[mid], pts.back()};
    }

    const std::size_t buckets = (max_points - 2) / 2;
    const double width = static_cast<double>(n - 2) / static_cast<double>(buckets);
    std::vector<std::size_t> picks;
    picks.reserve(max_points);
    picks.push_back(0);
    for (std::size_t b = 0; b < buckets; ++b) {
        std::size_t begin = 1 + static_cast<std::size_t>(static_cast<double>(b) * width);
        std::size_t end = b + 1 == buckets ? n - 1 : 1 + static_cast<std::size_t>(static_cast<double>(b + 1) * width);
        if (begin >= end) continue;
        auto e = detail::find_extremes(pts.subspan(begin, end - begin));
        std::size_t lo = begin + std::min(e.min, e.max), hi = begin + std::max(e.min, e.max);
        picks.push_back(lo);
        if (hi != lo) picks.push_back(hi);
    }
    picks.push_back(n - 1);
    return detail::gather(pts, picks);
}

inline std::vector<series_point> downsample(std::span<const series_point> pts, std::size_t max_points,
                                            downsample_method method) {
    return method == downsample_method::minmax ? downsample_minmax(pts, max_points) : downsample_lttb(pts, max_points);
}

}  // namespace tmon
