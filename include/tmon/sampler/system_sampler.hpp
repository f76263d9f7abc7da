#pragma once
// CPU, memory and process RSS from /proc, GPUs from NVML (dlopen'ed at run
// time). One instance is sampled from one thread; CPU % is the busy share of
// all cores since the previous sample (since construction for the first).
#include <algorithm>
#include <optional>

#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"
#include "tmon/sampler/detail/nvml.hpp"
#include "tmon/sampler/detail/proc_reader.hpp"
#include "tmon/sampler/sampler_concept.hpp"

namespace tmon {

class system_sampler {
public:
    static constexpr bool enabled = true;

    system_sampler() : last_cpu_(detail::read_cpu_times()) {}

    system_sample sample() {
        system_sample s;
        s.time = now_seconds();
        s.cpu_percent = cpu_percent_since_last();
        if (auto mem = detail::read_memory_usage()) {
            s.memory_used = mem->used;
            s.memory_total = mem->total;
            s.memory_percent =
                mem->total ? 100.0 * static_cast<double>(mem->used) / static_cast<double>(mem->total) : 0;
        }
        s.process_rss = detail::read_process_rss();
        s.gpus = nvml_.read_gpus();
        return s;
    }

    bool has_gpu_library() const noexcept { return nvml_.available(); }

private:
    double cpu_percent_since_last() {
        auto now = detail::read_cpu_times();
        double pct = 0;
        if (now && last_cpu_ && now->total > last_cpu_->total && now->busy >= last_cpu_->busy) {
            double busy = static_cast<double>(now->busy - last_cpu_->busy);
            double total = static_cast<double>(now->total - last_cpu_->total);
            pct = std::clamp(100.0 * busy / total, 0.0, 100.0);
        }
        if (now) last_cpu_ = now;
        return pct;
    }

    std::optional<detail::cpu_times> last_cpu_;
    detail::nvml_library nvml_;
};

static_assert(assert_sampler<system_sampler>());

}  // namespace tmon
