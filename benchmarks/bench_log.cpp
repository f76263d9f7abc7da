// Cost of monitor::log() on the training thread, against the logger a naive
// SDK writes (std::mutex + std::vector::push_back, drained by a thread).
//
//   bench_log [--steps N] [--keys K] [--work-ns W]
//
// Remote rows: monitor<http_client>, with the sender busy posting to a
// tmon-server in this process, and with the server down (journaling, retrying).
//
// Each "training step" logs K keys, each call timed on its own with the cycle
// counter (fenced, minus the timer's own measured cost), then does W ns of
// busy work standing in for the forward/backward pass. Scenarios:
//   keeping up  the flusher drains into a real store while training runs
//   stalled     no consumer: the queue fills, then every call is a counted drop
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tmon/client.hpp"
#include "tmon/monitor/monitor.hpp"
#include "tmon/server.hpp"
#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/sqlite_store.hpp"

#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_FENCE() _mm_lfence()
#else
#define BENCH_FENCE() std::atomic_thread_fence(std::memory_order_seq_cst)
#endif

namespace {

struct config {
    long steps = 250'000;
    int keys = 4;
    int work_ns = 1000;
};

config parse_args(int argc, char** argv) {
    config c;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view a = argv[i];
        if (a == "--steps") c.steps = std::atol(argv[i + 1]);
        else if (a == "--keys") c.keys = std::atoi(argv[i + 1]);
        else if (a == "--work-ns") c.work_ns = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: bench_log [--steps N] [--keys K] [--work-ns W]\n");
            std::exit(2);
        }
    }
    return c;
}

const char* key_names[] = {"loss", "accuracy", "lr", "grad_norm", "val_loss", "throughput", "loss_scale", "tokens"};

struct result {
    std::string name;
    double median_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
    std::uint64_t calls = 0, dropped = 0;
};

void busy_work(int ns) {
    auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
    while (std::chrono::steady_clock::now() < until) {}
}

// Median cost of the timing brackets themselves, subtracted from every sample.
std::uint64_t timer_overhead_ticks() {
    std::vector<std::uint64_t> t(100'000);
    for (auto& x : t) {
        BENCH_FENCE();
        auto a = tmon::detail::read_ticks();
        BENCH_FENCE();
        BENCH_FENCE();
        auto b = tmon::detail::read_ticks();
        x = b - a;
    }
    std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
    return t[t.size() / 2];
}

template <class LogFn>
result measure(std::string name, const config& c, LogFn&& log_one) {
    static const std::uint64_t overhead = timer_overhead_ticks();
    const double ns_per_tick = tmon::detail::initial_seconds_per_tick() * 1e9;
    std::vector<std::uint64_t> ticks;
    ticks.reserve(static_cast<std::size_t>(c.steps) * static_cast<std::size_t>(c.keys));
    for (long step = 0; step < c.steps; ++step) {
        double loss = 1.0 / static_cast<double>(step + 1);
        for (int k = 0; k < c.keys; ++k) {
            BENCH_FENCE();
            auto a = tmon::detail::read_ticks();
            BENCH_FENCE();
            log_one(step, key_names[k % 8], loss + k);
            BENCH_FENCE();
            auto b = tmon::detail::read_ticks();
            ticks.push_back(b - a > overhead ? b - a - overhead : 0);
        }
        busy_work(c.work_ns);
    }
    std::sort(ticks.begin(), ticks.end());
    auto at = [&](double q) {
        return static_cast<double>(ticks[static_cast<std::size_t>(q * (ticks.size() - 1))]) * ns_per_tick;
    };
    result r;
    r.name = std::move(name);
    r.median_ns = at(0.5);
    r.p99_ns = at(0.99);
    r.p999_ns = at(0.999);
    r.max_ns = at(1.0);
    r.calls = ticks.size();
    return r;
}

// What a naive SDK does: one mutex around a vector that a flusher thread swaps out.
class naive_logger {
public:
    struct point {
        std::string key;
        std::int64_t step;
        double time;
        double value;
    };

    naive_logger() : flusher_([this] { loop(); }) {}
    ~naive_logger() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        flusher_.join();
    }

    void log(std::int64_t step, std::string_view key, double value) {
        double now = tmon::now_seconds();
        std::lock_guard lock(mutex_);
        pending_.push_back(point{std::string(key), step, now, value});
    }

    std::uint64_t drained() const { return drained_; }

private:
    void loop() {
        std::vector<point> batch;
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                batch.swap(pending_);
                if (stop_ && batch.empty()) return;
            }
            drained_ += batch.size();
            batch.clear();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    std::mutex mutex_;
    std::vector<point> pending_;
    bool stop_ = false;
    std::uint64_t drained_ = 0;
    std::thread flusher_;
};

template <class Store>
result bench_monitor(std::string name, Store& store, const config& c, bool stalled) {
    tmon::monitor mon{store, {.run_name = "bench-log", .start_flusher = !stalled}};
    auto r =
        measure(std::move(name), c, [&](std::int64_t step, std::string_view key, double v) { mon.log(step, key, v); });
    r.dropped = mon.dropped();
    if (stalled) mon.set_status(tmon::run_status::completed);  // drains the full queue before the store goes
    return r;
}

void print(const result& r, const result& baseline) {
    std::printf("%-38s %9.1f %9.1f %9.1f %10.1f %10llu %10llu   %5.2fx %5.2fx\n", r.name.c_str(), r.median_ns, r.p99_ns,
                r.p999_ns, r.max_ns, static_cast<unsigned long long>(r.calls),
                static_cast<unsigned long long>(r.dropped), baseline.median_ns / std::max(r.median_ns, 0.1),
                baseline.p99_ns / std::max(r.p99_ns, 0.1));
}

}  // namespace

int main(int argc, char** argv) {
    config c = parse_args(argc, argv);
    tmon::set_log_level(tmon::log_level::error);  // the stalled run's drop warning is expected
    std::printf(
        "bench_log: %ld steps x %d keys, %d ns of work per step; cost of one log() call on the training thread\n",
        c.steps, c.keys, c.work_ns);

    result baseline;
    {
        naive_logger naive;
        baseline = measure("baseline: mutex + vector::push_back", c,
                           [&](std::int64_t step, std::string_view key, double v) { naive.log(step, key, v); });
    }

    std::vector<result> results;
    {
        tmon::memory_store store;
        results.push_back(bench_monitor("tmon monitor -> memory_store", store, c, false));
    }
    {
        auto dir = std::filesystem::temp_directory_path() / ("tmon-bench-log-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        {
            tmon::sqlite_store store{{.path = (dir / "bench.db").string()}};
            results.push_back(bench_monitor("tmon monitor -> sqlite_store", store, c, false));
        }
        std::filesystem::remove_all(dir);
    }
    {
        tmon::memory_store store;
        results.push_back(bench_monitor("tmon monitor, store stalled (drops)", store, c, true));
    }
    {
        auto dir = std::filesystem::temp_directory_path() / ("tmon-bench-log-remote-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        {
            tmon::server<tmon::sqlite_store> srv{
                {.db_path = (dir / "srv.db").string(), .port = 0, .sample_period = {}}};
            tmon::http_client client{
                {.url = "http://127.0.0.1:" + std::to_string(srv.port()), .journal_dir = dir / "j1"}};
            results.push_back(bench_monitor("tmon monitor -> http_client, sending", client, c, false));
            client.wait_sent(std::chrono::seconds(120));
        }
        {
            // Port 9 (discard) on loopback: nothing listens, every post fails fast and is retried.
            tmon::http_client client{{.url = "http://127.0.0.1:9", .journal_dir = dir / "j2", .drain_timeout = {}}};
            results.push_back(bench_monitor("tmon monitor -> http_client, srv down", client, c, false));
        }
        std::filesystem::remove_all(dir);
    }

    std::printf("\n%-38s %9s %9s %9s %10s %10s %10s   %6s %6s\n", "logger", "median", "p99", "p99.9", "max", "calls",
                "dropped", "x med", "x p99");
    std::printf("%-38s %9s %9s %9s %10s\n", "", "ns", "ns", "ns", "ns");
    print(baseline, baseline);
    for (const auto& r : results) print(r, baseline);
    std::printf(
        "\nx med / x p99: how many times cheaper than the baseline (baseline ns / tmon ns).\n"
        "dropped > 0 on a store row: the store could not absorb this rate (raise --work-ns to pace it);\n"
        "the call cost is the same either way. max includes the thread being descheduled.\n"
        "targets: median <= 50 ns, p99 <= 500 ns\n");
    return 0;
}
