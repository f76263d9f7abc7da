#pragma once
// Bounded lock-free queue of fixed-size slots (Dmitry Vyukov's bounded MPMC
// design, used here with any number of producers and one consumer). A push is
// one CAS on the ticket counter plus a copy into a preallocated slot: no lock,
// no allocation, no syscall, and a full queue answers `false` at once instead
// of waiting, so a producer can never be stalled by a slow consumer.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace tmon::detail {

inline constexpr std::size_t cache_line = 64;

constexpr std::size_t round_up_pow2(std::size_t n) noexcept {
    std::size_t p = 2;
    while (p < n) p <<= 1;
    return p;
}

template <class T>
class mpsc_queue {
    static_assert(std::is_trivially_copyable_v<T>, "slots are copied without constructors");

public:
    // Capacity is rounded up to a power of two (at least 2) so a ticket maps to
    // its slot with a mask.
    explicit mpsc_queue(std::size_t capacity)
        : mask_(round_up_pow2(capacity) - 1), slots_(std::make_unique<cell[]>(mask_ + 1)) {
        for (std::size_t i = 0; i <= mask_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
    }

    mpsc_queue(const mpsc_queue&) = delete;
    mpsc_queue& operator=(const mpsc_queue&) = delete;

    std::size_t capacity() const noexcept { return mask_ + 1; }

    // `fill` writes the payload in place; returns false (and does not call
    // fill) when the queue is full. `ticket` receives the position claimed.
    template <class Fill>
    bool try_push(Fill&& fill, std::uint64_t* ticket = nullptr) noexcept {
        std::uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = slots_[pos & mask_];
            std::uint64_t seq = c.seq.load(std::memory_order_acquire);
            auto diff = static_cast<std::int64_t>(seq - pos);
            if (diff == 0) {
                if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    fill(c.value);
                    c.seq.store(pos + 1, std::memory_order_release);
                    if (ticket) *ticket = pos;
                    return true;
                }
            } else if (diff < 0) {
                return false;  // the slot one lap behind is not consumed yet: full
            } else {
                pos = enqueue_pos_.load(std::memory_order_relaxed);
            }
        }
    }

    // Single consumer. False when empty or when the next slot's producer has
    // claimed it but not finished writing yet.
    bool try_pop(T& out) noexcept {
        std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
        cell& c = slots_[pos & mask_];
        std::uint64_t seq = c.seq.load(std::memory_order_acquire);
        if (static_cast<std::int64_t>(seq - (pos + 1)) < 0) return false;
        out = c.value;
        c.seq.store(pos + mask_ + 1, std::memory_order_release);
        dequeue_pos_.store(pos + 1, std::memory_order_release);
        return true;
    }

    // Tickets handed out so far; everything below was pushed or is being written.
    std::uint64_t pushed() const noexcept { return enqueue_pos_.load(std::memory_order_acquire); }
    std::uint64_t popped() const noexcept { return dequeue_pos_.load(std::memory_order_acquire); }
    std::size_t approx_size() const noexcept {
        std::uint64_t in = pushed(), out = popped();
        return in > out ? static_cast<std::size_t>(in - out) : 0;
    }

private:
    // One cell per cache line (or two): producers writing neighbouring slots
    // do not share a line.
    struct alignas(cache_line) cell {
        std::atomic<std::uint64_t> seq;
        T value;
    };

    const std::uint64_t mask_;
    std::unique_ptr<cell[]> slots_;
    // Producers and the consumer write different counters; keep them on
    // separate cache lines so they do not invalidate each other.
    alignas(cache_line) std::atomic<std::uint64_t> enqueue_pos_{0};
    alignas(cache_line) std::atomic<std::uint64_t> dequeue_pos_{0};
};

}  // namespace tmon::detail
