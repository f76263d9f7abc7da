#pragma once
// A few threads that run store calls for the io threads, which must never
// block on disk. Bounded: when the backlog is full, try_post refuses and the
// caller answers 503 instead of queueing without limit.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tmon/core/log.hpp"

namespace tmon::detail {

class work_pool {
public:
    work_pool(unsigned threads, std::size_t max_queued) : max_queued_(max_queued) {
        if (threads == 0) threads = 1;
        threads_.reserve(threads);
        for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
    }
    work_pool(const work_pool&) = delete;
    work_pool& operator=(const work_pool&) = delete;
    ~work_pool() { stop(); }

    bool try_post(std::function<void()> task) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_ || tasks_.size() >= max_queued_) return false;
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
        return true;
    }

    // Runs what is already queued, then joins: accepted requests still get answered.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        threads_.clear();
    }

private:
    void loop() {
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
                if (tasks_.empty()) return;
                task = std::move(tasks_.front());
                tasks_.pop_front();
            }
            try {
                task();
            } catch (const std::exception& e) {
                log(log_level::error, "server", "work item failed: {}", e.what());
            } catch (...) {
                log(log_level::error, "server", "work item failed with an unknown exception");
            }
        }
    }

    std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace tmon::detail
