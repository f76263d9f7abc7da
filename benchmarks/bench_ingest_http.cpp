// End-to-end ingestion: batches of metric points POSTed to tmon-server (sqlite store) over
// a few keep-alive connections, against raw SQLite inserts of the same rows in this run
// (one row per point, one prepared statement, one transaction per batch, WAL,
// synchronous=NORMAL). A point is one scalar value: a step with 4 keys is 4 points.
//
//   bench_ingest_http [--points 1000000] [--batch 1000] [--keys 4] [--connections 4]
//                     [--server PATH | --url http://host:port]
//
// Without --url it spawns tmon-server (default: ../examples/tmon-server next to this
// binary) on a free port with a temp database. Target: tmon >= 0.5x raw SQLite.
#include "clients/child_process.hpp"
#include "clients/json_reply.hpp"
#include "clients/raw_http.hpp"

#include <rapidjson/document.h>
#include <sqlite3.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

struct options {
    long points = 1'000'000;
    int batch = 1000;
    int keys = 4;
    int connections = 4;
    std::string server;
    std::string url;
};

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--points") o.points = std::atol(value);
        else if (flag == "--batch") o.batch = std::atoi(value);
        else if (flag == "--keys") o.keys = std::atoi(value);
        else if (flag == "--connections") o.connections = std::atoi(value);
        else if (flag == "--server") o.server = value;
        else if (flag == "--url") o.url = value;
        else throw std::runtime_error("unknown flag " + flag);
    }
    o.keys = std::clamp(o.keys, 1, 8);
    o.batch = std::max(o.keys, o.batch - o.batch % o.keys);
    o.points = std::max<long>(o.batch, o.points - o.points % o.batch);
    o.connections = std::max(1, o.connections);
    if (o.server.empty())
        o.server =
            (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "examples" / "tmon-server").string();
    return o;
}

constexpr const char* key_names[] = {"loss", "acc", "lr", "grad_norm", "val_loss", "val_acc", "throughput", "memory"};

double value_of(long step, int key) {
    return std::exp(-static_cast<double>(step) / 50'000.0) * (key + 1) + 1e-6 * static_cast<double>(step % 997);
}

// The workload, built before the clock starts so neither side pays for generating it.
struct workload {
    int steps_per_batch;
    int keys;
    std::vector<std::string> bodies;  // one POST body per batch

    explicit workload(const options& o) : steps_per_batch(o.batch / o.keys), keys(o.keys) {
        const long batches = o.points / o.batch;
        bodies.reserve(static_cast<size_t>(batches));
        for (long b = 0; b < batches; ++b) {
            std::string body = R"({"points":[)";
            for (int s = 0; s < steps_per_batch; ++s) {
                const long step = b * steps_per_batch + s;
                fmt::format_to(std::back_inserter(body), R"({}{{"step":{},"metrics":{{)", s ? "," : "", step);
                for (int k = 0; k < keys; ++k)
                    fmt::format_to(std::back_inserter(body), R"({}"{}":{})", k ? "," : "", key_names[k],
                                   value_of(step, k));
                body += "}}";
            }
            body += "]}";
            bodies.push_back(std::move(body));
        }
    }
};

void check_sqlite(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        throw std::runtime_error(fmt::format("sqlite {}: {}", what, sqlite3_errmsg(db)));
}

double raw_sqlite_seconds(const options& o, const workload& w, const fs::path& file) {
    sqlite3* db = nullptr;
    check_sqlite(sqlite3_open(file.c_str(), &db), db, "open");
    check_sqlite(sqlite3_exec(db,
                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                              "CREATE TABLE points (run TEXT, key TEXT, step INTEGER, time REAL, value REAL)",
                              nullptr, nullptr, nullptr),
                 db, "schema");
    sqlite3_stmt* insert = nullptr;
    check_sqlite(sqlite3_prepare_v2(db, "INSERT INTO points VALUES (?, ?, ?, ?, ?)", -1, &insert, nullptr), db,
                 "prepare");
    const long batches = o.points / o.batch;
    const auto start = steady::now();
    for (long b = 0; b < batches; ++b) {
        check_sqlite(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
        const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        for (int s = 0; s < w.steps_per_batch; ++s) {
            const long step = b * w.steps_per_batch + s;
            for (int k = 0; k < w.keys; ++k) {
                sqlite3_bind_text(insert, 1, "run_bench", -1, SQLITE_STATIC);
                sqlite3_bind_text(insert, 2, key_names[k], -1, SQLITE_STATIC);
                sqlite3_bind_int64(insert, 3, step);
                sqlite3_bind_double(insert, 4, now);
                sqlite3_bind_double(insert, 5, value_of(step, k));
                check_sqlite(sqlite3_step(insert), db, "insert");
                sqlite3_reset(insert);
            }
        }
        check_sqlite(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    }
    const double seconds = std::chrono::duration<double>(steady::now() - start).count();
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return seconds;
}

rapidjson::Document parse(const bench::http_reply& reply, const char* what) {
    return bench::parse_json_reply(reply, what);
}

struct tmon_result {
    double seconds = 0;
    long accepted = 0;
    long stored_steps = -1;
};

tmon_result post_everything(const options& o, const workload& w, const std::string& host, int port) {
    std::string run_id;
    {
        bench::http_connection http(host, port);
        auto doc = parse(http.request("POST", "/api/runs", R"({"name":"bench-ingest-http"})"), "POST /api/runs");
        run_id = doc["id"].GetString();
    }
    const std::string path = "/api/runs/" + run_id + "/metrics";
    std::atomic<size_t> next{0};
    std::atomic<long> accepted{0};
    std::vector<std::string> errors(static_cast<size_t>(o.connections));
    std::vector<std::unique_ptr<bench::http_connection>> connections;
    for (int c = 0; c < o.connections; ++c) connections.push_back(std::make_unique<bench::http_connection>(host, port));

    const auto start = steady::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < o.connections; ++c)
        clients.emplace_back([&, c] {
            try {
                for (size_t b; (b = next.fetch_add(1)) < w.bodies.size();) {
                    auto doc =
                        parse(connections[static_cast<size_t>(c)]->request("POST", path, w.bodies[b]), "POST metrics");
                    accepted +=
                        doc.HasMember("accepted") && doc["accepted"].IsNumber() ? doc["accepted"].GetInt64() : 0;
                }
            } catch (const std::exception& e) {
                errors[static_cast<size_t>(c)] = e.what();
                next = w.bodies.size();
            }
        });
    for (auto& t : clients) t.join();
    tmon_result result;
    result.seconds = std::chrono::duration<double>(steady::now() - start).count();
    for (const auto& e : errors)
        if (!e.empty()) throw std::runtime_error(e);
    result.accepted = accepted;

    // What a reader sees afterwards: every step of the first key is stored.
    bench::http_connection http(host, port);
    auto doc = parse(http.request("GET", "/api/runs/" + run_id + "/metrics?keys=loss&max_points=2"), "GET metrics");
    if (doc.HasMember("series") && doc["series"].HasMember("loss") && doc["series"]["loss"].HasMember("total"))
        result.stored_steps = doc["series"]["loss"]["total"].GetInt64();
    return result;
}

}  // namespace

int main(int argc, char** argv) try {
    const options o = parse_options(argc, argv);
    const fs::path dir = fs::temp_directory_path() / fmt::format("tmon-bench-ingest-{}", ::getpid());
    fs::create_directories(dir);
    struct cleanup {
        fs::path dir;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove_dir{dir};

    std::printf("building %ld points: %ld batches of %d (%d steps x %d keys)\n", o.points, o.points / o.batch, o.batch,
                o.batch / o.keys, o.keys);
    const workload w(o);
    const double sqlite_seconds = raw_sqlite_seconds(o, w, dir / "raw.db");

    std::string host = "127.0.0.1";
    int port = 0;
    std::unique_ptr<bench::child_process> child;
    if (!o.url.empty()) {
        const auto hostport = o.url.substr(o.url.find("://") + 3);
        host = hostport.substr(0, hostport.find(':'));
        port = std::atoi(hostport.substr(hostport.find(':') + 1).c_str());
    } else {
        port = bench::free_port();
        child = std::make_unique<bench::child_process>(
            std::vector<std::string>{o.server, "--host", host, "--port", std::to_string(port), "--storage", "sqlite",
                                     "--db", (dir / "tmon.db").string()},
            (dir / "tmon-server.log").string());
    }
    bench::wait_until_ready(host, port, "/health");
    const tmon_result tmon = post_everything(o, w, host, port);

    const double sqlite_rate = static_cast<double>(o.points) / sqlite_seconds;
    const double tmon_rate = static_cast<double>(o.points) / tmon.seconds;
    std::printf("\n%-44s %10s %9s %13s %9s\n", "ingest path", "points", "seconds", "points/s", "ratio");
    std::printf("%-44s %10ld %9.3f %13.0f %8.2fx\n", "raw SQLite (row per point, txn per batch)", o.points,
                sqlite_seconds, sqlite_rate, 1.0);
    std::printf("%-44s %10ld %9.3f %13.0f %8.2fx\n",
                fmt::format("tmon-server POST, {} keep-alive conns", o.connections).c_str(), o.points, tmon.seconds,
                tmon_rate, tmon_rate / sqlite_rate);
    std::printf("\naccepted %ld of %ld points; stored steps of 'loss': %ld of %ld. target >= 0.5x: %s\n", tmon.accepted,
                o.points, tmon.stored_steps, o.points / o.keys, tmon_rate / sqlite_rate >= 0.5 ? "met" : "MISSED");
    return tmon.accepted == o.points && tmon.stored_steps == o.points / o.keys ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ingest_http: %s\n", e.what());
    return 1;
}
