#pragma once
// Request bodies buffered across the whole transport share one budget
// (transport_limits::max_inflight_body_bytes): a body's bytes are counted from
// the moment its size is announced (Content-Length, or each chunk size) until
// the application has answered the request, so thirty clients each sending
// most of a 64 MiB body cannot make the server hold 2 GB.
#include <atomic>
#include <cstddef>
#include <utility>

namespace tmon::detail {

// One request's share of the budget; given back when released or destroyed.
class body_reservation {
public:
    body_reservation() = default;
    body_reservation(body_reservation&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
    body_reservation& operator=(body_reservation&& other) noexcept {
        if (this != &other) {
            release();
            pool_ = std::exchange(other.pool_, nullptr);
            bytes_ = std::exchange(other.bytes_, 0);
        }
        return *this;
    }
    body_reservation(const body_reservation&) = delete;
    body_reservation& operator=(const body_reservation&) = delete;
    ~body_reservation() { release(); }

    // Holds `total` bytes of `pool` in all; false (holding what it held) when
    // that would take the pool past `budget`.
    bool grow_to(std::atomic<std::size_t>& pool, std::size_t total, std::size_t budget) noexcept {
        if (total <= bytes_) return true;
        if (pool_ && pool_ != &pool) release();
        std::size_t extra = total - bytes_;
        std::size_t used = pool.load(std::memory_order_relaxed);
        do {
            if (used > budget || extra > budget - used) return false;
        } while (!pool.compare_exchange_weak(used, used + extra, std::memory_order_relaxed));
        pool_ = &pool;
        bytes_ = total;
        return true;
    }

    void release() noexcept {
        if (pool_ && bytes_) pool_->fetch_sub(bytes_, std::memory_order_relaxed);
        pool_ = nullptr;
        bytes_ = 0;
    }

    std::size_t bytes() const noexcept { return bytes_; }

private:
    std::atomic<std::size_t>* pool_ = nullptr;
    std::size_t bytes_ = 0;
};

}  // namespace tmon::detail
