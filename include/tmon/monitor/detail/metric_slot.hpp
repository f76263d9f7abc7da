#pragma once
// The queue's payload: one point with its key copied inline, so a log() call
// never allocates and never holds a pointer into the caller's memory.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tmon/core/types.hpp"

namespace tmon::detail {

// 120 bytes of payload + the queue's 8-byte sequence = two cache lines per slot.
inline constexpr std::size_t max_metric_key_length = 95;

struct metric_slot {
    step_t step;
    std::uint64_t ticks;  // detail::read_ticks() at log time, converted by the flusher
    double value;
    std::uint8_t key_length;
    char key[max_metric_key_length];

    std::string_view key_view() const noexcept { return {key, key_length}; }
};

static_assert(sizeof(metric_slot) == 120);

}  // namespace tmon::detail
