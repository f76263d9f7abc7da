#pragma once
// A fresh store per test (its own temp dir or file), plus small builders so the
// tests read as specifications rather than struct plumbing.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tmon/core/log.hpp"
#include "tmon/storage/jsonl_store.hpp"
#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/sqlite_store.hpp"

namespace tmon::test {

class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tmon-storage-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

template <class S>
struct store_traits;

template <>
struct store_traits<memory_store> {
    static constexpr bool persistent = false;
    static std::unique_ptr<memory_store> open(const temp_dir&) { return std::make_unique<memory_store>(); }
};

template <>
struct store_traits<sqlite_store> {
    static constexpr bool persistent = true;
    static std::unique_ptr<sqlite_store> open(const temp_dir& dir) {
        sqlite_store::options o;
        o.path = (dir.path() / "tmon.db").string();
        return std::make_unique<sqlite_store>(o);
    }
};

template <>
struct store_traits<jsonl_store> {
    static constexpr bool persistent = true;
    static std::unique_ptr<jsonl_store> open(const temp_dir& dir) {
        jsonl_store::options o;
        o.dir = (dir.path() / "runs").string();
        return std::make_unique<jsonl_store>(o);
    }
};

// The store under test, fresh for each test case.
template <class S>
struct fresh_store {
    temp_dir dir;
    std::unique_ptr<S> store = store_traits<S>::open(dir);
    S& operator*() { return *store; }
    S* operator->() { return store.get(); }
    // Closes and reopens over the same files (persistent stores only).
    void reopen() {
        store.reset();
        store = store_traits<S>::open(dir);
    }
};

inline new_run named_run(std::string name, std::vector<std::string> tags = {}) {
    new_run r;
    r.name = std::move(name);
    r.tags = std::move(tags);
    return r;
}

inline metric_point point(std::string key, step_t step, double value, double time = 0) {
    metric_point p;
    p.key = std::move(key);
    p.step = step;
    p.value = value;
    p.time = time == 0 ? 1.7e9 + static_cast<double>(step) : time;
    return p;
}

inline metric_query series_of(const std::string& run_id, std::string key) {
    metric_query q;
    q.run_id = run_id;
    q.key = std::move(key);
    return q;
}

inline new_checkpoint checkpoint_for(const std::string& run_id, std::string path, step_t step) {
    new_checkpoint c;
    c.run_id = run_id;
    c.filepath = std::move(path);
    c.step = step;
    c.metrics_json = R"({"loss":0.5})";
    return c;
}

inline run_update status_to(run_status s) {
    run_update u;
    u.status = s;
    return u;
}

inline std::vector<std::string> event_types(const std::vector<event>& evs) {
    std::vector<std::string> out;
    for (const auto& e : evs) out.push_back(e.type);
    return out;
}

// Collects the warnings and info lines logged while it lives.
struct log_capture {
    std::mutex m;
    std::vector<std::string> warnings, infos;
    log_capture() {
        set_log_sink([this](log_level l, std::string_view line) {
            std::lock_guard lock(m);
            if (l == log_level::warn) warnings.emplace_back(line);
            if (l == log_level::info) infos.emplace_back(line);
        });
    }
    ~log_capture() { set_log_sink(nullptr); }
};

}  // namespace tmon::test
