// A training loop in its own process reporting to a tmon-server over HTTP:
// what a trainer on another node, or one rank of a distributed job, does.
//
//   tmon-server --db runs.db &
//   TMON_URL=http://127.0.0.1:8000 remote-training --steps 5000
//
// Metrics go through monitor<http_client>: log() only queues; a journal on
// local disk keeps everything until the server acknowledged it, so stopping
// or killing the server loses nothing. The loop honours the dashboard's STOP
// (poll_commands). The loss is a known function of the step so tests can
// check every stored value exactly; a summary is printed as JSON at the end.
//
//   remote-training [--steps N] [--keys K] [--step-us US] [--start-step S] [--name NAME]
//                   [--resume] [--no-sampler] [--host H] [--flush-every N] [--drain-s S]
// Environment: TMON_URL, TMON_TOKEN, TMON_RUN_ID, TMON_RANK, TMON_JOURNAL_DIR.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tmon/client.hpp"

namespace {

struct args {
    long steps = 2000;
    long keys = 2;
    long step_us = 1000;
    long start_step = 0;
    long flush_every = 0;  // >0: flush and print "journaled N" every N steps (tests use it)
    long drain_s = 30;
    std::string name = "remote-training";
    std::string host;
    bool resume = false;
    bool sampler = true;
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: remote-training [--steps N] [--keys K] [--step-us US] [--start-step S] [--name NAME]\n"
                 "                       [--resume] [--no-sampler] [--host H] [--flush-every N] [--drain-s S]\n"
                 "Reports a synthetic training run to the tmon-server at $TMON_URL (default http://127.0.0.1:8080).\n");
    std::exit(code);
}

long to_long(const char* flag, const char* v) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (!*v || *end || n < 0) {
        std::fprintf(stderr, "remote-training: %s needs a non-negative integer, got '%s'\n", flag, v);
        std::exit(2);
    }
    return n;
}

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string_view f = argv[i];
        auto next = [&] {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (f == "--steps") a.steps = to_long("--steps", next());
        else if (f == "--keys") a.keys = std::max(1L, to_long("--keys", next()));
        else if (f == "--step-us") a.step_us = to_long("--step-us", next());
        else if (f == "--start-step") a.start_step = to_long("--start-step", next());
        else if (f == "--flush-every") a.flush_every = to_long("--flush-every", next());
        else if (f == "--drain-s") a.drain_s = to_long("--drain-s", next());
        else if (f == "--name") a.name = next();
        else if (f == "--host") a.host = next();
        else if (f == "--resume") a.resume = true;
        else if (f == "--no-sampler") a.sampler = false;
        else if (f == "--help" || f == "-h") usage(0);
        else usage(2);
    }
    return a;
}

// The value every test expects for key k at step s (exact in binary64).
double value_at(long k, long s) {
    return 1.0 / (1.0 + static_cast<double>(s)) + static_cast<double>(k) * 1e-3 + static_cast<double>(s % 7) * 1e-9;
}

template <class Monitor>
int train(Monitor& mon, const args& a, tmon::http_client& client) {
    std::vector<std::string> keys;
    for (long k = 0; k < a.keys; ++k) keys.push_back(k == 0 ? "loss" : "metric_" + std::to_string(k));
    std::vector<std::int64_t> log_ns;
    log_ns.reserve(static_cast<std::size_t>(a.steps * a.keys));
    std::string stopped_by;
    long step = a.start_step;
    const long end = a.start_step + a.steps;
    auto next_poll = std::chrono::steady_clock::now();
    for (; step < end; ++step) {
        for (long k = 0; k < a.keys; ++k) {
            auto t0 = std::chrono::steady_clock::now();
            mon.log(step, keys[static_cast<std::size_t>(k)], value_at(k, step));
            log_ns.push_back(
                std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
        }
        if (a.flush_every > 0 && (step + 1) % a.flush_every == 0) {
            mon.flush();
            std::printf("journaled %ld\n", step);
            std::fflush(stdout);
        }
        if (std::chrono::steady_clock::now() >= next_poll) {
            next_poll += std::chrono::milliseconds(200);
            for (const auto& c : mon.poll_commands())
                if (c.type == "stop" || c.type == "interrupt") stopped_by = c.type;
            if (!stopped_by.empty()) {
                ++step;
                break;
            }
        }
        if (a.step_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(a.step_us));
    }
    mon.flush();
    std::sort(log_ns.begin(), log_ns.end());
    auto pct = [&](double p) {
        return log_ns.empty() ? 0 : log_ns[static_cast<std::size_t>(p * static_cast<double>(log_ns.size() - 1))];
    };
    auto s = client.stats();
    std::printf(
        "{\"run_id\":\"%s\",\"first_step\":%ld,\"last_step\":%ld,\"keys\":%ld,\"stopped_by\":\"%s\","
        "\"log_ns_median\":%lld,\"log_ns_p99\":%lld,\"log_ns_max\":%lld,\"dropped\":%llu,\"rejected\":%llu,"
        "\"client\":{\"sent_points\":%llu,\"queued_points\":%llu,\"dropped_points\":%llu,\"retries\":%llu}}\n",
        mon.run_id().c_str(), a.start_step, step - 1, a.keys, stopped_by.c_str(), static_cast<long long>(pct(0.5)),
        static_cast<long long>(pct(0.99)), static_cast<long long>(log_ns.empty() ? 0 : log_ns.back()),
        static_cast<unsigned long long>(mon.dropped()), static_cast<unsigned long long>(mon.rejected()),
        static_cast<unsigned long long>(s.sent_points), static_cast<unsigned long long>(s.queued_points),
        static_cast<unsigned long long>(s.dropped_points), static_cast<unsigned long long>(s.retries));
    std::fflush(stdout);
    if (!stopped_by.empty())
        mon.set_status(stopped_by == "stop" ? tmon::run_status::cancelled : tmon::run_status::interrupted);
    return 0;
}

template <class Sampler>
int run(const args& a) {
    tmon::http_client_options o;
    o.host = a.host;
    o.drain_timeout = std::chrono::seconds(a.drain_s);
    tmon::http_client client(o);
    tmon::monitor_options mo{.run_name = a.name, .total_steps = a.start_step + a.steps};
    auto mon = a.resume ? tmon::monitor<tmon::http_client, Sampler>::resume_or_create(client, mo)
                        : tmon::monitor<tmon::http_client, Sampler>(client, mo);
    std::fprintf(stderr, "remote-training: run %s (rank %d) reporting to %s\n", mon.run_id().c_str(),
                 client.options().rank, client.options().url.c_str());
    return train(mon, a, client);
}

}  // namespace

int main(int argc, char** argv) {
    args a = parse(argc, argv);
    try {
        return a.sampler ? run<tmon::system_sampler>(a) : run<tmon::no_sampler>(a);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "remote-training: %s\n", e.what());
        return 1;
    }
}
