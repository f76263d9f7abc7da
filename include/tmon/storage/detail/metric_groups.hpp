#pragma once
// A batch of metric points regrouped by key, once, so whoever walks it (the
// jsonl encoder, the in-memory index) looks each key up once per batch instead
// of once per point. Within a key the points keep their write order, so a
// repeated (key, step) still resolves to the last write.
#include <cstdint>
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
        group_of_.resize(points.size());
        // Points come in runs of one key or round-robin over a step's keys:
        // try the previous point's key, then the one after it, then search.
        std::uint32_t last = 0;
        for (std::size_t i = 0; i < points.size(); ++i) {
            std::string_view key = points[i].key;
            if (keys_.empty() || keys_[last] != key) {
                auto next = last + 1 == keys_.size() ? 0 : last + 1;
                last = !keys_.empty() && keys_[next] == key ? next : group_for(key);
            }
            group_of_[i] = last;
        }
        sort_members_by_group();
    }

    std::span<const metric_point> points() const noexcept { return points_; }
    bool empty() const noexcept { return points_.empty(); }
    std::size_t size() const noexcept { return keys_.size(); }
    std::string_view key(std::size_t g) const { return keys_[g]; }
    // Indices into points(), in write order.
    std::span<const std::uint32_t> members(std::size_t g) const {
        return {members_.data() + starts_[g], starts_[g + 1] - starts_[g]};
    }

private:
    // Batches usually carry a handful of keys: a linear scan beats hashing
    // until there are more than a few.
    static constexpr std::size_t linear_keys = 8;

    std::uint32_t group_for(std::string_view key) {
        if (keys_.size() <= linear_keys) {
            for (std::uint32_t g = 0; g < keys_.size(); ++g)
                if (keys_[g] == key) return g;
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

    // A stable counting sort of point indices by group.
    void sort_members_by_group() {
        starts_.assign(keys_.size() + 1, 0);
        for (auto g : group_of_) ++starts_[g + 1];
        for (std::size_t g = 1; g < starts_.size(); ++g) starts_[g] += starts_[g - 1];
        next_.assign(starts_.begin(), starts_.end() - 1);
        members_.resize(points_.size());
        for (std::uint32_t i = 0; i < group_of_.size(); ++i) members_[next_[group_of_[i]]++] = i;
    }

    std::span<const metric_point> points_;
    std::vector<std::string_view> keys_;
    std::unordered_map<std::string_view, std::uint32_t> index_;
    std::vector<std::uint32_t> group_of_, starts_, next_, members_;
};

}  // namespace tmon::detail
