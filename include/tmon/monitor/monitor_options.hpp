#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon {

struct monitor_options {
    std::string run_name{};
    std::string config_json = "{}";  // JSON object, stored verbatim
    std::vector<std::string> tags{};
    std::optional<step_t> total_steps{};
    std::string notes{};

    // Points that can wait for the flusher; past this, log() drops and counts.
    // Rounded up to a power of two. Each slot is 128 bytes (8 MiB by default).
    std::size_t queue_capacity = 65536;
    // The flusher writes at least this often, and sooner once the queue is half full.
    std::chrono::milliseconds flush_interval{50};
    // How often the sampler thread (when the sampler is enabled) takes a sample.
    std::chrono::milliseconds sample_period{1000};
    // Points per append_metrics call.
    std::size_t max_batch = 4096;
    // false: no flusher thread; the queue is drained only by flush(), checkpoint(),
    // set_status() and the destructor. For tools that want to fill the queue
    // deterministically (tests, the stalled-store benchmark).
    bool start_flusher = true;
};

}  // namespace tmon
