#pragma once
// Read connections, so reads never queue behind the writer: in WAL mode each
// reader sees the last committed snapshot while a write is in progress. A
// connection is borrowed per call; idle ones are kept, up to `max_idle`.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tmon/storage/detail/sqlite_db.hpp"

namespace tmon::detail {

class sqlite_reader_pool {
public:
    sqlite_reader_pool(std::string path, std::size_t max_idle, int busy_timeout_ms, std::int64_t mmap_size)
        : path_(std::move(path)), max_idle_(max_idle), busy_timeout_ms_(busy_timeout_ms), mmap_size_(mmap_size) {}

    template <class F>
    auto with_connection(F&& f) {
        auto conn = acquire();
        struct returner {
            sqlite_reader_pool* pool;
            std::unique_ptr<sqlite_connection>& c;
            ~returner() { pool->release(std::move(c)); }
        } back{this, conn};
        return f(*conn);
    }

private:
    std::unique_ptr<sqlite_connection> acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                return c;
            }
        }
        auto c = std::make_unique<sqlite_connection>(path_, SQLITE_OPEN_READONLY);
        sqlite3_busy_timeout(c->handle(), busy_timeout_ms_);
        c->exec(fmt::format("PRAGMA mmap_size={}", mmap_size_).c_str());
        return c;
    }

    void release(std::unique_ptr<sqlite_connection> c) {
        if (!c) return;
        std::lock_guard lock(mutex_);
        if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
    }

    std::string path_;
    std::size_t max_idle_;
    int busy_timeout_ms_;
    std::int64_t mmap_size_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<sqlite_connection>> idle_;
};

}  // namespace tmon::detail
