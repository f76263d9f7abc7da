#pragma once
// The hot path stamps points with a raw cycle counter (rdtsc: a few ns, no
// syscall even where the vDSO clock falls back to one) and the flusher turns
// ticks into Unix seconds against the wall clock. Assumes an invariant TSC,
// which every x86-64 CPU of the last decade and every mainstream VM provide.
#include <chrono>
#include <cstdint>

#include "tmon/core/clock.hpp"

namespace tmon::detail {

inline std::uint64_t read_ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();  // what __rdtsc() is, without <x86intrin.h>'s compile time
#elif defined(__aarch64__)
    std::uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Seconds per tick measured once per process over ~2 ms.
inline double initial_seconds_per_tick() noexcept {
    static const double rate = [] {
        std::uint64_t t0 = read_ticks();
        double w0 = now_seconds(), w1 = w0;
        while (w1 - w0 < 0.002) w1 = now_seconds();
        std::uint64_t t1 = read_ticks();
        return t1 > t0 ? (w1 - w0) / static_cast<double>(t1 - t0) : 1e-9;
    }();
    return rate;
}

// Owned by the consumer: recalibrate() before converting a batch. The rate is
// refined over the whole life of the owner, and conversion is anchored at the
// latest wall reading, so the error is the rate's error times the queue delay.
class tick_to_wall {
public:
    tick_to_wall() : t0_(read_ticks()), w0_(now_seconds()), t1_(t0_), w1_(w0_), rate_(initial_seconds_per_tick()) {}

    void recalibrate() noexcept {
        t1_ = read_ticks();
        w1_ = now_seconds();
        if (w1_ - w0_ > 0.05 && t1_ > t0_) rate_ = (w1_ - w0_) / static_cast<double>(t1_ - t0_);
    }

    double to_unix(std::uint64_t ticks) const noexcept {
        return w1_ + static_cast<double>(static_cast<std::int64_t>(ticks - t1_)) * rate_;
    }

private:
    std::uint64_t t0_;
    double w0_;
    std::uint64_t t1_;
    double w1_;
    double rate_;
};

}  // namespace tmon::detail
