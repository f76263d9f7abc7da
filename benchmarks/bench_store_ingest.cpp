// Metric ingestion into each store, batches of 1,000 points over several keys,
// against baselines measured in the same run:
//   sqlite_store  vs raw SQLite, one row per point (5 columns, one prepared
//                 statement, one transaction per batch, WAL, synchronous=NORMAL)
//   jsonl_store   vs raw fwrite + fflush of the same bytes per batch
//   memory_store  (target >= 10M points/s)
// Usage: bench_store_ingest [--points N] [--keys K] [--threads T] [--page-size B]
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/bench_util.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/storage/jsonl_store.hpp"
#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/sqlite_store.hpp"

using namespace tmon;
using tmon::bench::stopwatch;

namespace {

constexpr std::size_t batch_size = 1000;

std::vector<std::vector<metric_point>> make_batches(long long points, int keys, int stream = 0) {
    std::vector<std::vector<metric_point>> batches;
    std::vector<metric_point> cur;
    for (long long i = 0; i < points; ++i) {
        metric_point p;
        p.key = fmt::format("s{}/metric_{}", stream, i % keys);
        p.step = i / keys;
        p.time = 1.7e9 + static_cast<double>(p.step) * 0.01;
        p.value = 1.0 / static_cast<double>(i + 1);
        cur.push_back(std::move(p));
        if (cur.size() == batch_size) batches.push_back(std::move(cur)), cur.clear();
    }
    if (!cur.empty()) batches.push_back(std::move(cur));
    return batches;
}

template <class Store>
double store_rate(Store& s, const std::vector<std::vector<metric_point>>& batches, long long points) {
    auto run = s.create_run([] { new_run r; r.name = "bench"; return r; }());
    stopwatch t;
    for (const auto& b : batches) s.append_metrics(run.id, b);
    return static_cast<double>(points) / t.seconds();
}

template <class Store>
double store_rate_threads(Store& s, int threads, long long points, int keys) {
    auto run = s.create_run([] { new_run r; r.name = "bench-mt"; return r; }());
    std::vector<std::vector<std::vector<metric_point>>> work;
    for (int t = 0; t < threads; ++t) work.push_back(make_batches(points / threads, keys, t));
    stopwatch t;
    std::vector<std::thread> pool;
    for (auto& w : work)
        pool.emplace_back([&] {
            for (const auto& b : w) s.append_metrics(run.id, b);
        });
    for (auto& th : pool) th.join();
    return static_cast<double>(points / threads * threads) / t.seconds();
}

void check(int rc, sqlite3* db) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        std::exit(1);
    }
}

double raw_sqlite_rate(const std::string& path, const std::vector<std::vector<metric_point>>& batches, long long points,
                       bool with_index) {
    sqlite3* db = nullptr;
    check(sqlite3_open(path.c_str(), &db), db);
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           "CREATE TABLE points (run_id TEXT, key TEXT, step INTEGER, time REAL, value REAL);",
                       nullptr, nullptr, nullptr),
          db);
    if (with_index) check(sqlite3_exec(db, "CREATE INDEX p ON points (run_id, key, step)", nullptr, nullptr, nullptr), db);
    sqlite3_stmt* ins = nullptr;
    check(sqlite3_prepare_v2(db, "INSERT INTO points VALUES (?, ?, ?, ?, ?)", -1, &ins, nullptr), db);
    stopwatch t;
    for (const auto& b : batches) {
        check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db);
        for (const auto& p : b) {
            sqlite3_bind_text(ins, 1, "run_bench", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, p.key.data(), static_cast<int>(p.key.size()), SQLITE_STATIC);
            sqlite3_bind_int64(ins, 3, p.step);
            sqlite3_bind_double(ins, 4, p.time);
            sqlite3_bind_double(ins, 5, p.value);
            check(sqlite3_step(ins), db);
            sqlite3_reset(ins);
        }
        check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db);
    }
    double rate = static_cast<double>(points) / t.seconds();
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return rate;
}

// The bytes jsonl_store writes, pre-formatted, so only the write is timed.
double raw_fwrite_rate(const std::string& path, const std::vector<std::vector<metric_point>>& batches, long long points) {
    std::vector<std::string> blobs;
    for (const auto& b : batches) {
        std::string s;
        for (const auto& p : b) {
            detail::json_writer w{s};
            w.begin_object().field("key", p.key).field("step", p.step).field("time", p.time).field("value", p.value).end_object();
            s.push_back('\n');
        }
        blobs.push_back(std::move(s));
    }
    FILE* f = std::fopen(path.c_str(), "ab");
    stopwatch t;
    for (const auto& s : blobs) {
        std::fwrite(s.data(), 1, s.size(), f);
        std::fflush(f);
    }
    double rate = static_cast<double>(points) / t.seconds();
    std::fclose(f);
    return rate;
}

void row(const char* name, double rate, const char* baseline, double base) {
    if (base > 0)
        std::printf("%-34s %12.0f pts/s   %-30s %12.0f pts/s   %6.2fx\n", name, rate, baseline, base, rate / base);
    else
        std::printf("%-34s %12.0f pts/s\n", name, rate);
}

}  // namespace

int main(int argc, char** argv) {
    long long points = bench::arg(argc, argv, "--points", 2'000'000);
    int keys = static_cast<int>(bench::arg(argc, argv, "--keys", 4));
    int threads = static_cast<int>(bench::arg(argc, argv, "--threads", 4));
    auto batches = make_batches(points, keys);
    std::printf("ingest: %lld points, %d keys, batches of %zu\n\n", points, keys, batch_size);

    memory_store mem;
    double mem_rate = store_rate(mem, batches, points);

    bench::scratch_dir dir;
    double raw = raw_sqlite_rate((dir / "raw.db").string(), batches, points, false);
    double raw_idx = raw_sqlite_rate((dir / "raw_idx.db").string(), batches, points, true);
    sqlite_store::options so;
    so.path = (dir / "tmon.db").string();
    so.page_size = static_cast<int>(bench::arg(argc, argv, "--page-size", so.page_size));
    double sql_rate = 0, sql_mt = 0;
    {
        sqlite_store s{so};
        sql_rate = store_rate(s, batches, points);
        sql_mt = store_rate_threads(s, threads, points, keys);
    }

    double raw_fw = raw_fwrite_rate((dir / "raw.jsonl").string(), batches, points);
    jsonl_store::options jo;
    jo.dir = (dir / "jsonl").string();
    double jsonl_rate = 0;
    {
        jsonl_store s{jo};
        jsonl_rate = store_rate(s, batches, points);
    }

    row("memory_store", mem_rate, "target", 10e6);
    row("sqlite_store", sql_rate, "raw sqlite, row/point", raw);
    row("sqlite_store", sql_rate, "raw sqlite, row/point + index", raw_idx);
    row(fmt::format("sqlite_store, {} writer threads", threads).c_str(), sql_mt, "raw sqlite, row/point", raw);
    row("jsonl_store", jsonl_rate, "raw fwrite, same bytes", raw_fw);
    return 0;
}
