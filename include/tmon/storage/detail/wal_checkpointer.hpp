#pragma once
// Copies the WAL back into the database on a thread and connection of its own.
// A checkpoint fsyncs twice; run by the committing writer, every write queued
// behind it waited those fsyncs (20+ ms on a busy disk). PASSIVE mode never
// blocks the writer or a reader, and once every frame is copied back SQLite
// restarts the WAL from its start at the next commit, so the file stays small.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <sqlite3.h>

#include "tmon/core/log.hpp"
#include "tmon/storage/detail/sqlite_db.hpp"

namespace tmon::detail {

class wal_checkpointer {
public:
    wal_checkpointer(const std::string& path, bool synchronous_full) : db_(path, SQLITE_OPEN_READWRITE) {
        // The connection doing a checkpoint decides how it syncs.
        db_.exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        thread_ = std::thread([this] { loop(); });
    }
    wal_checkpointer(const wal_checkpointer&) = delete;
    wal_checkpointer& operator=(const wal_checkpointer&) = delete;
    ~wal_checkpointer() { stop(); }

    // Never blocks: asks for a checkpoint soon. Requests made while one runs
    // merge into the next.
    void request() {
        {
            std::lock_guard lock(mutex_);
            requested_ = true;
        }
        cv_.notify_one();
    }

    // Keeps a background pass from running while the caller checkpoints on
    // another connection: SQLite refuses a second checkpoint at once (BUSY)
    // instead of waiting for the first.
    std::unique_lock<std::mutex> hold() { return std::unique_lock{running_}; }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

private:
    void loop() {
        std::unique_lock lock(mutex_);
        while (true) {
            cv_.wait(lock, [this] { return stopping_ || requested_; });
            if (stopping_) return;
            requested_ = false;
            lock.unlock();
            {
                std::lock_guard pass(running_);
                checkpoint_passive();
            }
            lock.lock();
        }
    }

    void checkpoint_passive() {
        int log_frames = 0, done_frames = 0;
        int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done_frames);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            log(log_level::warn, "sqlite", "wal checkpoint failed: {}", sqlite3_errmsg(db_.handle()));
    }

    sqlite_connection db_;
    std::mutex mutex_;  // guards the flags below
    std::condition_variable cv_;
    std::mutex running_;  // held for the whole of a checkpoint
    bool requested_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tmon::detail
