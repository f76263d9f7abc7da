#pragma once
// The real stores the monitor is tested against, each in a fresh state.
#include <atomic>
#include <filesystem>
#include <string>
#include <tuple>

#include <unistd.h>

#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/jsonl_store.hpp"
#include "tmon/storage/sqlite_store.hpp"

namespace monitor_test {

class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("tmon-monitor-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct memory_fixture {
    static constexpr const char* name = "memory_store";
    using store_type = tmon::memory_store;
    tmon::memory_store store;
};

struct sqlite_fixture {
    static constexpr const char* name = "sqlite_store";
    using store_type = tmon::sqlite_store;
    temp_dir dir;
    tmon::sqlite_store store{{.path = (dir.path() / "runs.db").string()}};
};

struct jsonl_fixture {
    static constexpr const char* name = "jsonl_store";
    using store_type = tmon::jsonl_store;
    temp_dir dir;
    tmon::jsonl_store store{{.dir = (dir.path() / "runs").string()}};
};

using all_stores = std::tuple<memory_fixture, sqlite_fixture, jsonl_fixture>;

}  // namespace monitor_test
