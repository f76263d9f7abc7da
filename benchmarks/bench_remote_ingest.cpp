// Remote trainers into one tmon-server: N processes, each a monitor<http_client>
// logging as fast as it can (journal on disk, background sender, batches of
// 4,096 points), against the direct batch POST rate bench_ingest_http measures
// (4 keep-alive connections posting pre-built batches of 1,000 points), both
// into the same server in this run. The clock for the remote side runs from
// spawning the trainers until every one of them has had all its points
// acknowledged; every point is then read back.
//
//   bench_remote_ingest [--points-per-process 400000] [--procs 1,4,8] [--keys 4] [--server PATH]
// Target: remote >= 0.8x direct.
#include "clients/child_process.hpp"
#include "clients/json_reply.hpp"
#include "clients/raw_http.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tmon/client.hpp"

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

struct options {
    long points = 400'000;  // per process
    std::vector<int> procs{1, 4, 8};
    int keys = 4;
    std::string server;
};

constexpr const char* key_names[] = {"loss", "acc", "lr", "grad_norm", "val_loss", "val_acc", "throughput", "memory"};

// --child URL NAME POINTS KEYS JOURNAL_DIR: one remote trainer.
int child_main(char** argv) {
    tmon::set_log_level(tmon::log_level::error);
    tmon::http_client_options o;
    o.url = argv[2];
    o.journal_dir = argv[6];
    o.drain_timeout = std::chrono::seconds(600);
    if (const char* ms = std::getenv("BENCH_BATCH_MS")) o.batch_interval = std::chrono::milliseconds(std::atoi(ms));
    const long points = std::atol(argv[4]);
    const int keys = std::atoi(argv[5]);
    const auto t0 = steady::now();
    auto ms = [&] { return std::chrono::duration<double, std::milli>(steady::now() - t0).count(); };
    tmon::http_client client(o);
    double journaled_ms = 0;
    {
        tmon::monitor mon{client, {.run_name = argv[3]}};
        const long steps = points / keys;
        for (long step = 0; step < steps; ++step) {
            for (int k = 0; k < keys; ++k) mon.log(step, key_names[k], 1.0 / static_cast<double>(step + k + 1));
            if (step % 8192 == 8191) mon.flush();  // the queue never overflows: this measures the wire, not drops
        }
        mon.flush();
        journaled_ms = ms();
        if (mon.dropped() != 0) {
            std::fprintf(stderr, "dropped %llu\n", static_cast<unsigned long long>(mon.dropped()));
            return 1;
        }
    }
    const double ended_ms = ms();
    const bool sent = client.wait_sent(std::chrono::seconds(600));
    std::printf("journaled %.1f ms, run ended %.1f ms, all acknowledged %.1f ms\n", journaled_ms, ended_ms, ms());
    return sent ? 0 : 1;
}

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--points-per-process") o.points = std::atol(value);
        else if (flag == "--keys") o.keys = std::max(1, std::min(8, std::atoi(value)));
        else if (flag == "--server") o.server = value;
        else if (flag == "--procs") {
            o.procs.clear();
            std::stringstream ss(value);
            for (std::string n; std::getline(ss, n, ',');) o.procs.push_back(std::max(1, std::atoi(n.c_str())));
        } else {
            std::fprintf(
                stderr,
                "usage: bench_remote_ingest [--points-per-process N] [--procs 1,4,8] [--keys K] [--server PATH]\n");
            std::exit(2);
        }
    }
    if (o.server.empty())
        o.server =
            (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "examples" / "tmon-server").string();
    return o;
}

rapidjson::Document parse(const bench::http_reply& reply, const char* what) {
    return bench::parse_json_reply(reply, what);
}

long stored_steps(bench::http_connection& http, const std::string& run_id) {
    auto doc = parse(http.request("GET", "/api/runs/" + run_id + "/metrics?keys=loss&max_points=2"), "GET metrics");
    return doc["series"]["loss"]["total"].GetInt64();
}

// bench_ingest_http's measurement: 4 connections, pre-built batches of 1,000 points.
double direct_rate(int port, long total, int keys) {
    const int batch = 1000, steps_per_batch = batch / keys;
    std::vector<std::string> bodies;
    for (long b = 0; b < total / batch; ++b) {
        std::string body = R"({"points":[)";
        for (int s = 0; s < steps_per_batch; ++s) {
            const long step = b * steps_per_batch + s;
            fmt::format_to(std::back_inserter(body), R"({}{{"step":{},"metrics":{{)", s ? "," : "", step);
            for (int k = 0; k < keys; ++k)
                fmt::format_to(std::back_inserter(body), R"({}"{}":{})", k ? "," : "", key_names[k],
                               1.0 / static_cast<double>(step + k + 1));
            body += "}}";
        }
        body += "]}";
        bodies.push_back(std::move(body));
    }
    bench::http_connection setup("127.0.0.1", port);
    std::string run_id =
        parse(setup.request("POST", "/api/runs", R"({"name":"bench-direct"})"), "POST /api/runs")["id"].GetString();
    const std::string path = "/api/runs/" + run_id + "/metrics";
    std::atomic<size_t> next{0};
    const auto start = steady::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < 4; ++c)
        threads.emplace_back([&] {
            bench::http_connection http("127.0.0.1", port);
            for (size_t b; (b = next.fetch_add(1)) < bodies.size();)
                parse(http.request("POST", path, bodies[b]), "POST metrics");
        });
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(steady::now() - start).count();
    if (stored_steps(setup, run_id) != total / keys) throw std::runtime_error("direct: not every point was stored");
    return static_cast<double>(total) / seconds;
}

struct remote_result {
    double rate = 0;
    bool all_stored = true;
};

remote_result remote_rate(const options& o, int procs, int port, const fs::path& dir) {
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const std::string name = fmt::format("bench-remote-{}p", procs);
    std::vector<std::unique_ptr<bench::child_process>> children;
    const auto start = steady::now();
    for (int i = 0; i < procs; ++i)
        children.push_back(std::make_unique<bench::child_process>(
            std::vector<std::string>{self, "--child", url, fmt::format("{}-{}", name, i), std::to_string(o.points),
                                     std::to_string(o.keys), (dir / fmt::format("journal-{}-{}", procs, i)).string()},
            (dir / fmt::format("child-{}-{}.log", procs, i)).string()));
    for (auto& c : children)
        while (c->running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const double seconds = std::chrono::duration<double>(steady::now() - start).count();
    remote_result r;
    r.rate = static_cast<double>(o.points) * procs / seconds;
    bench::http_connection http("127.0.0.1", port);
    auto runs = parse(http.request("GET", "/api/runs?limit=1000&q=" + name), "GET runs");
    int found = 0;
    for (const auto& run : runs["runs"].GetArray()) {
        ++found;
        if (stored_steps(http, run["id"].GetString()) != o.points / o.keys) r.all_stored = false;
    }
    if (found != procs) r.all_stored = false;
    return r;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc >= 7 && std::string(argv[1]) == "--child") return child_main(argv);
    const options o = parse_options(argc, argv);
    const fs::path dir = fs::temp_directory_path() / fmt::format("tmon-bench-remote-{}", ::getpid());
    fs::create_directories(dir);
    struct cleanup {
        fs::path dir;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove_dir{dir};

    const int port = bench::free_port();
    bench::child_process server({o.server, "--host", "127.0.0.1", "--port", std::to_string(port), "--storage", "sqlite",
                                 "--db", (dir / "tmon.db").string(), "--log-level", "error"},
                                (dir / "tmon-server.log").string());
    bench::wait_until_ready("127.0.0.1", port, "/health");

    std::printf("bench_remote_ingest: %ld points per process, %d keys per step, into one tmon-server (sqlite)\n",
                o.points, o.keys);
    const double direct = direct_rate(port, 1'000'000, o.keys);
    std::printf("\n%-52s %13s %9s\n", "ingest path", "points/s", "ratio");
    std::printf("%-52s %13.0f %8.2fx\n", "direct batch POST (4 conns, 1,000-point batches)", direct, 1.0);
    bool ok = true;
    for (int n : o.procs) {
        auto r = remote_rate(o, n, port, dir);
        std::printf("%-52s %13.0f %8.2fx  %s\n", fmt::format("{} remote monitor<http_client> process(es)", n).c_str(),
                    r.rate, r.rate / direct, r.all_stored ? "every point stored" : "POINTS MISSING");
        ok = ok && r.all_stored;
    }
    std::printf("\ntarget: remote >= 0.8x direct. Remote time includes process start and the final drain.\n");
    return ok ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_remote_ingest: %s\n", e.what());
    return 1;
}
