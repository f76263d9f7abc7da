#pragma once
// Group commit: callers on many threads queue their write; whichever finds no
// leader becomes one, runs every queued write in ONE transaction (each in its
// own savepoint, so one refused write does not sink the others), commits, and
// wakes them. A caller returns only after the COMMIT that carries its write,
// so a returned write is durable, and N concurrent writers cost ~1 fsync.
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

namespace tmon::detail {

class group_commit {
public:
    struct job {
        std::function<void()> op;
        std::exception_ptr error;
        bool done = false;
    };

    // run_batch runs the jobs in one transaction and sets each job's error;
    // after_batch runs with the leadership still held (e.g. WAL checkpoints)
    // but after the batch's callers were woken.
    group_commit(std::function<void(std::vector<job*>&)> run_batch, std::function<void()> after_batch)
        : run_batch_(std::move(run_batch)), after_batch_(std::move(after_batch)) {}

    void submit(std::function<void()> op) {
        job j{std::move(op), nullptr, false};
        std::unique_lock lock(mutex_);
        queue_.push_back(&j);
        while (!j.done) {
            if (leading_) {
                cv_.wait(lock);
                continue;
            }
            lead(lock);
        }
        if (j.error) std::rethrow_exception(j.error);
    }

private:
    void lead(std::unique_lock<std::mutex>& lock) {
        leading_ = true;
        std::vector<job*> batch;
        batch.swap(queue_);
        lock.unlock();
        run_batch_(batch);
        lock.lock();
        for (auto* j : batch) j->done = true;
        cv_.notify_all();
        lock.unlock();
        try {
            after_batch_();
        } catch (...) {
            // Housekeeping failures must not fail writes that already committed.
        }
        lock.lock();
        leading_ = false;
        cv_.notify_all();
    }

    std::function<void(std::vector<job*>&)> run_batch_;
    std::function<void()> after_batch_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<job*> queue_;
    bool leading_ = false;
};

}  // namespace tmon::detail
