// A 1,000,000-step series in sqlite_store, queried down to 1,000 points
// (LTTB and min/max), median over several runs; target <= 50 ms. Baseline in
// the same run: the same series stored one row per point in raw SQLite, read
// back with one indexed SELECT and downsampled by the same LTTB.
// Usage: bench_downsample [--steps N] [--runs R] [--max-points M] [--page-size B]
#include <cmath>
#include <cstdio>
#include <vector>

#include <sqlite3.h>

#include "common/bench_util.hpp"
#include "tmon/core/downsample.hpp"
#include "tmon/storage/sqlite_store.hpp"

using namespace tmon;
using tmon::bench::stopwatch;

namespace {

double value_at(step_t i) { return std::exp(-static_cast<double>(i) / 2e5) + 0.05 * std::sin(static_cast<double>(i)); }

std::vector<series_point> raw_sqlite_query(sqlite3* db, std::size_t max_points) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT step, time, value FROM points WHERE run_id = 'r' AND key = 'loss' ORDER BY step", -1,
                       &s, nullptr);
    std::vector<series_point> pts;
    while (sqlite3_step(s) == SQLITE_ROW)
        pts.push_back({sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1), sqlite3_column_double(s, 2)});
    sqlite3_finalize(s);
    return downsample_lttb(pts, max_points);
}

}  // namespace

int main(int argc, char** argv) {
    const step_t steps = bench::arg(argc, argv, "--steps", 1'000'000);
    const int runs = static_cast<int>(bench::arg(argc, argv, "--runs", 11));
    const auto max_points = static_cast<std::size_t>(bench::arg(argc, argv, "--max-points", 1000));

    bench::scratch_dir dir;
    sqlite_store::options o;
    o.path = (dir / "tmon.db").string();
    o.page_size = static_cast<int>(bench::arg(argc, argv, "--page-size", o.page_size));
    sqlite_store store{o};
    new_run nr;
    nr.name = "downsample";
    auto run = store.create_run(nr);

    sqlite3* raw = nullptr;
    sqlite3_open((dir / "raw.db").c_str(), &raw);
    sqlite3_exec(raw,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE points (run_id TEXT, key TEXT, step INTEGER, time REAL, value REAL);"
                 "CREATE INDEX p ON points (run_id, key, step);",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(raw, "INSERT INTO points VALUES ('r', 'loss', ?, ?, ?)", -1, &ins, nullptr);

    std::vector<metric_point> batch;
    for (step_t i = 0; i < steps; ++i) {
        metric_point p;
        p.key = "loss";
        p.step = i;
        p.time = 1.7e9 + static_cast<double>(i);
        p.value = i == steps / 3 ? 10.0 : value_at(i);
        batch.push_back(p);
        if (batch.size() == 1000 || i + 1 == steps) {
            store.append_metrics(run.id, batch);
            sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr);
            for (const auto& b : batch) {
                sqlite3_bind_int64(ins, 1, b.step);
                sqlite3_bind_double(ins, 2, b.time);
                sqlite3_bind_double(ins, 3, b.value);
                sqlite3_step(ins);
                sqlite3_reset(ins);
            }
            sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
            batch.clear();
        }
    }
    sqlite3_finalize(ins);

    auto time_query = [&](downsample_method m, std::size_t mp, bool& spike) {
        std::vector<double> ms;
        for (int r = 0; r < runs; ++r) {
            metric_query q;
            q.run_id = run.id;
            q.key = "loss";
            q.max_points = mp;
            q.method = m;
            stopwatch t;
            auto s = store.query_metrics(q);
            ms.push_back(t.millis());
            spike = false;
            for (auto& p : s.points) spike = spike || p.value == 10.0;
            if (mp == 0) spike = s.points.size() == static_cast<std::size_t>(steps);
        }
        return bench::median(ms);
    };
    bool spike_lttb = false, spike_minmax = false, whole = false;
    double lttb = time_query(downsample_method::lttb, max_points, spike_lttb);
    double minmax = time_query(downsample_method::minmax, max_points, spike_minmax);
    double full = time_query(downsample_method::lttb, 0, whole);

    std::vector<double> raw_ms;
    bool raw_spike = false;
    for (int r = 0; r < runs; ++r) {
        stopwatch t;
        auto pts = raw_sqlite_query(raw, max_points);
        raw_ms.push_back(t.millis());
        raw_spike = std::any_of(pts.begin(), pts.end(), [](auto& p) { return p.value == 10.0; });
    }
    sqlite3_close(raw);
    double raw_med = bench::median(raw_ms);

    std::printf("downsample: %lld steps -> %zu points, median of %d runs\n\n", static_cast<long long>(steps),
                max_points, runs);
    std::printf("%-40s %9s %16s %8s\n", "query", "median ms", "vs raw sqlite", "spike");
    std::printf("%-40s %9.2f %15.2fx %8s\n", "sqlite_store, LTTB", lttb, raw_med / lttb, spike_lttb ? "kept" : "LOST");
    std::printf("%-40s %9.2f %15.2fx %8s\n", "sqlite_store, min/max", minmax, raw_med / minmax,
                spike_minmax ? "kept" : "LOST");
    std::printf("%-40s %9.2f %15.2fx %8s\n", "sqlite_store, all points (no downsample)", full, raw_med / full,
                whole ? "all" : "SHORT");
    std::printf("%-40s %9.2f %15s %8s\n", "baseline: raw sqlite rows + LTTB", raw_med, "1.00x",
                raw_spike ? "kept" : "LOST");
    std::printf("\ntarget <= 50 ms: %s\n", lttb <= 50 && minmax <= 50 ? "met" : "NOT met");
    return 0;
}
