#pragma once
// A thread that runs a task every `period` until stopped. Stopping wakes it at
// once (no waiting out the period), and the task's exceptions are logged and
// swallowed so one bad sample cannot kill the thread or the process.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "tmon/core/log.hpp"

namespace tmon::detail {

class periodic_worker {
public:
    using clock = std::chrono::steady_clock;

    periodic_worker() = default;
    periodic_worker(const periodic_worker&) = delete;
    periodic_worker& operator=(const periodic_worker&) = delete;
    ~periodic_worker() { stop(); }

    // `run_first` runs the task at once instead of after the first period.
    void start(std::string name, clock::duration period, std::function<void()> task, bool run_first = true) {
        stop();
        name_ = std::move(name);
        period_ = period;
        task_ = std::move(task);
        stopping_ = false;
        thread_ = std::thread([this, run_first] { loop(run_first); });
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    bool running() const noexcept { return thread_.joinable(); }

private:
    void loop(bool run_first) {
        auto next = clock::now();
        if (!run_first) next += period_;
        std::unique_lock lock(mutex_);
        for (;;) {
            if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
            lock.unlock();
            run_task();
            lock.lock();
            // Fixed-rate schedule; after a long stall skip ahead instead of bursting.
            next += period_;
            auto now = clock::now();
            if (next < now) next = now + period_;
        }
    }

    void run_task() noexcept {
        try {
            task_();
        } catch (const std::exception& e) {
            log(log_level::warn, name_, "periodic task failed: {}", e.what());
        } catch (...) {
            log(log_level::warn, name_, "periodic task failed with an unknown exception");
        }
    }

    std::string name_;
    clock::duration period_{};
    std::function<void()> task_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tmon::detail
