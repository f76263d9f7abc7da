#pragma once
// The real stores the monitor is tested against, each in a fresh state.
#include <atomic>
#include <filesystem>
#include <string>
#include <tuple>

#include <unistd.h>

#include "tmon/storage/memory_store.hpp"
#if __has_include("tmon/storage/sqlite_store.hpp")
#include "tmon/storage/sqlite_store.hpp"
#define TMON_TEST_HAVE_SQLITE_STORE 1
#endif

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

#ifdef TMON_TEST_HAVE_SQLITE_STORE
struct sqlite_fixture {
    static constexpr const char* name = "sqlite_store";
    using store_type = tmon::sqlite_store;
    temp_dir dir;
    tmon::sqlite_store store{(dir.path() / "runs.db").string()};
};
using all_stores = std::tuple<memory_fixture, sqlite_fixture>;
#else
using all_stores = std::tuple<memory_fixture>;
#endif

}  // namespace monitor_test
