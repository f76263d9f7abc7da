#pragma once
// Collects tmon's log lines while alive (the sink is process-wide, so one at a time).
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/log.hpp"

namespace tmon::test {

class log_capture {
public:
    log_capture() {
        tmon::set_log_sink([this](tmon::log_level, std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
        });
    }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;
    ~log_capture() { tmon::set_log_sink({}); }

    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    // Lines containing `needle`.
    std::size_t count(std::string_view needle) {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& l : lines_) n += l.find(needle) != std::string::npos ? 1 : 0;
        return n;
    }

private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

}  // namespace tmon::test
