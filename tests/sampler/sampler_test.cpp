#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tmon/core/clock.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/sampler/no_sampler.hpp"
#include "tmon/sampler/system_sampler.hpp"

static_assert(!tmon::sampler<int>);
static_assert(tmon::sampler<tmon::no_sampler> && !tmon::no_sampler::enabled);
static_assert(tmon::sampler<tmon::system_sampler> && tmon::system_sampler::enabled);

// Each case runs on both samplers and is named after one ("... - system_sampler").
using tmon::no_sampler;
using tmon::system_sampler;
#define TMON_TEST_SAMPLERS no_sampler, system_sampler

namespace {

constexpr std::uint64_t mib = 1024 * 1024;

// Spins on its own thread until destroyed, so the machine has busy time to see.
class cpu_burner {
public:
    cpu_burner()
        : thread_([this] {
              volatile std::uint64_t x = 0;
              while (!stop_.load(std::memory_order_relaxed)) x = x + 1;
          }) {}
    ~cpu_burner() {
        stop_ = true;
        thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace

TEMPLATE_TEST_CASE("a sample is stamped with the current wall time and its values are in range", "[sampler]",
                   TMON_TEST_SAMPLERS) {
    TestType sampler;
    double before = tmon::now_seconds();
    tmon::system_sample s = sampler.sample();
    double after = tmon::now_seconds();
    CHECK(s.time >= before);
    CHECK(s.time <= after);
    CHECK(s.cpu_percent >= 0.0);
    CHECK(s.cpu_percent <= 100.0);
    CHECK(s.memory_percent >= 0.0);
    CHECK(s.memory_percent <= 100.0);
    CHECK(s.memory_used <= s.memory_total);
    if constexpr (TestType::enabled) {
        CHECK(s.memory_total > 0);
        CHECK(s.memory_used > 0);
        CHECK(s.process_rss > 0);
    } else {
        CHECK(s.memory_total == 0);
        CHECK(s.process_rss == 0);
        CHECK(s.gpus.empty());
    }
}

TEMPLATE_TEST_CASE("process RSS grows when the process touches 64 MB", "[sampler]", TMON_TEST_SAMPLERS) {
    TestType sampler;
    auto before = sampler.sample().process_rss;
    constexpr std::size_t size = 64 * mib;
    auto block = std::make_unique<char[]>(size);
    std::memset(block.get(), 0x5a, size);  // touch every page so it is resident
    auto after = sampler.sample().process_rss;
    CHECK(block[size - 1] == 0x5a);
    if constexpr (TestType::enabled) {
        CHECK(after >= before + 48 * mib);
    } else {
        CHECK(after == 0);
    }
}

TEMPLATE_TEST_CASE("CPU percent rises above zero while a thread burns CPU", "[sampler]", TMON_TEST_SAMPLERS) {
    TestType sampler;
    sampler.sample();
    double seen = 0;
    {
        cpu_burner burn;
        // Kernel CPU accounting advances in ticks; give it up to ~5 s of samples.
        constexpr int tries = TestType::enabled ? 100 : 3;
        for (int i = 0; i < tries && seen <= 0.0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            seen = sampler.sample().cpu_percent;
        }
    }
    CHECK(seen <= 100.0);
    if constexpr (TestType::enabled) {
        CHECK(seen > 0.0);
    } else {
        CHECK(seen == 0.0);
    }
}

TEMPLATE_TEST_CASE("a machine without a usable NVML gives an empty GPU list, not an error", "[sampler]",
                   TMON_TEST_SAMPLERS) {
    TestType sampler;
    tmon::system_sample s;
    REQUIRE_NOTHROW(s = sampler.sample());
    if constexpr (TestType::enabled) {
        if (!sampler.has_gpu_library()) CHECK(s.gpus.empty());
    } else {
        CHECK(s.gpus.empty());
    }
}

TEST_CASE("a missing NVML library leaves the GPU list empty on every read", "[sampler]") {
    tmon::detail::nvml_library nvml{"libtmon-no-such-nvml.so.1"};
    CHECK_FALSE(nvml.available());
    CHECK(nvml.read_gpus().empty());
    CHECK(nvml.read_gpus().empty());
}

TEST_CASE("/proc/stat and /proc/meminfo parse into busy/total and used bytes", "[sampler]") {
    auto t = tmon::detail::parse_proc_stat("cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 1 2 3\n");
    REQUIRE(t);
    CHECK(t->total == 980);
    CHECK(t->busy == 160);
    CHECK_FALSE(tmon::detail::parse_proc_stat("intr 1 2 3"));

    std::string_view meminfo = "MemTotal:       16000 kB\nMemFree:  1000 kB\nMemAvailable:   4000 kB\n";
    CHECK(tmon::detail::meminfo_field(meminfo, "MemTotal") == 16000u * 1024);
    CHECK(tmon::detail::meminfo_field(meminfo, "MemAvailable") == 4000u * 1024);
    CHECK_FALSE(tmon::detail::meminfo_field(meminfo, "Mem"));
    CHECK_FALSE(tmon::detail::meminfo_field(meminfo, "SwapTotal"));
}

// On a GPU machine: `TMON_GPU_WORKLOAD=1 test_sampler "[gpu]"`. Runs a PyTorch
// matmul loop in a child process and expects NVML to see the GPU busy.
TEST_CASE("on a GPU machine the sampler sees each GPU and its utilisation under load", "[sampler][.][gpu]") {
    tmon::system_sampler sampler;
    REQUIRE(sampler.has_gpu_library());
    auto first = sampler.sample();
    REQUIRE_FALSE(first.gpus.empty());
    for (const auto& g : first.gpus) {
        CHECK_FALSE(g.name.empty());
        CHECK(g.memory_total > 0);
        CHECK(g.memory_used <= g.memory_total);
        CHECK(g.utilization >= 0.0);
        CHECK(g.utilization <= 100.0);
        CHECK(g.temperature > 0.0);
    }
    if (!std::getenv("TMON_GPU_WORKLOAD")) return;
    std::thread workload([] {
        int rc = std::system(
            "python3 -c \"import torch; x=torch.randn(8192,8192,device='cuda'); "
            "[x@x for _ in range(3000)]; torch.cuda.synchronize()\"");
        (void)rc;
    });
    double busiest = 0;
    for (int i = 0; i < 200 && busiest <= 0.0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (const auto& g : sampler.sample().gpus) busiest = std::max(busiest, g.utilization);
    }
    workload.join();
    CHECK(busiest > 0.0);
}

// `test_sampler "[print]"` prints one sample of this machine as the stores record it.
TEST_CASE("print one system sample", "[sampler][.][print]") {
    tmon::system_sampler sampler;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto sample = sampler.sample();
    auto text = tmon::detail::json_text([&](tmon::detail::json_writer& w) { tmon::detail::write_system(w, sample); });
    std::printf("%s\n", text.c_str());
}
