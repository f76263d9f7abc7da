#pragma once
// Lets the writer briefly stop new reads and wait for running ones to finish.
// SQLite can only restart a WAL when no reader holds an old snapshot; readers
// querying back to back can keep a lock slot busy forever, so a checkpoint
// that must succeed closes the gate instead of polling for a gap.
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace tmon::detail {

class reader_gate {
public:
    class pass {
    public:
        explicit pass(reader_gate& g) : g_(g) {
            std::unique_lock lock(g_.mutex_);
            g_.cv_.wait(lock, [&] { return !g_.closed_; });
            ++g_.active_;
        }
        ~pass() {
            std::lock_guard lock(g_.mutex_);
            if (--g_.active_ == 0) g_.cv_.notify_all();
        }
        pass(const pass&) = delete;
        pass& operator=(const pass&) = delete;

    private:
        reader_gate& g_;
    };

    class closed {
    public:
        explicit closed(reader_gate& g) : g_(g) {
            std::unique_lock lock(g_.mutex_);
            g_.closed_ = true;
            g_.cv_.wait(lock, [&] { return g_.active_ == 0; });
        }
        ~closed() {
            std::lock_guard lock(g_.mutex_);
            g_.closed_ = false;
            g_.cv_.notify_all();
        }
        closed(const closed&) = delete;
        closed& operator=(const closed&) = delete;

    private:
        reader_gate& g_;
    };

    pass enter() { return pass{*this}; }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t active_ = 0;
    bool closed_ = false;
};

}  // namespace tmon::detail
