#pragma once
// A fresh store per test (support/stores.hpp: its own temp dir or file), plus small
// builders so the tests read as specifications rather than struct plumbing.
#include <mutex>
#include <string>
#include <vector>

#include "support/stores.hpp"
#include "support/temp_dir.hpp"
#include "tmon/core/log.hpp"

namespace tmon::test {

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
