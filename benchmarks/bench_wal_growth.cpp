// WAL size under a writer that never stops and a reader that never stops.
// Baseline in the same run: raw SQLite with its default auto-checkpoint and
// the same two loops, whose WAL grows while readers starve checkpoints.
// Prints both sizes every --every seconds (default 30) and at the end.
// Usage: bench_wal_growth [--seconds N (default 600)] [--every S]
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "common/bench_util.hpp"
#include "tmon/storage/sqlite_store.hpp"

using namespace tmon;
using tmon::bench::stopwatch;

namespace {

std::uintmax_t file_size(const std::filesystem::path& p) {
    std::error_code ec;
    auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : n;
}

double mib(std::uintmax_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

struct loop_stats {
    std::atomic<long long> points{0}, reads{0};
};

void run_tmon(const std::filesystem::path& path, std::atomic<bool>& stop, loop_stats& st) {
    sqlite_store::options o;
    o.path = path.string();
    sqlite_store s{o};
    new_run nr;
    nr.name = "wal";
    auto run = s.create_run(nr);
    std::thread reader([&] {
        while (!stop) {
            metric_query q;
            q.run_id = run.id;
            q.key = "loss";
            q.step_min = st.points.load() - 200'000;
            q.max_points = 1000;
            s.query_metrics(q);
            st.reads++;
        }
    });
    std::vector<metric_point> batch(1000);
    for (step_t step = 0; !stop;) {
        for (auto& p : batch) {
            p.key = "loss";
            p.step = step++;
            p.time = static_cast<double>(p.step);
            p.value = 1.0;
        }
        s.append_metrics(run.id, batch);
        st.points += 1000;
    }
    reader.join();
}

void run_raw(const std::filesystem::path& path, std::atomic<bool>& stop, loop_stats& st) {
    sqlite3* w = nullptr;
    sqlite3_open(path.c_str(), &w);
    sqlite3_busy_timeout(w, 5000);
    sqlite3_exec(w,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE points (key TEXT, step INTEGER, time REAL, value REAL);"
                 "CREATE INDEX p ON points (key, step);",
                 nullptr, nullptr, nullptr);
    std::thread reader([&] {
        sqlite3* r = nullptr;
        sqlite3_open(path.c_str(), &r);
        sqlite3_busy_timeout(r, 5000);
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(r, "SELECT step, value FROM points WHERE key = 'loss' AND step >= ?", -1, &q, nullptr);
        while (!stop) {
            sqlite3_bind_int64(q, 1, st.points.load() - 200'000);
            while (sqlite3_step(q) == SQLITE_ROW) {}
            sqlite3_reset(q);
            st.reads++;
        }
        sqlite3_finalize(q);
        sqlite3_close(r);
    });
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(w, "INSERT INTO points VALUES ('loss', ?, ?, 1.0)", -1, &ins, nullptr);
    for (long long step = 0; !stop;) {
        sqlite3_exec(w, "BEGIN", nullptr, nullptr, nullptr);
        for (int i = 0; i < 1000; ++i, ++step) {
            sqlite3_bind_int64(ins, 1, step);
            sqlite3_bind_double(ins, 2, static_cast<double>(step));
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_exec(w, "COMMIT", nullptr, nullptr, nullptr);
        st.points += 1000;
    }
    reader.join();
    sqlite3_finalize(ins);
    sqlite3_close(w);
}

}  // namespace

int main(int argc, char** argv) {
    const long long seconds = bench::arg(argc, argv, "--seconds", 600);
    const long long every = bench::arg(argc, argv, "--every", 30);
    bench::scratch_dir dir;
    auto tmon_db = dir / "tmon.db", raw_db = dir / "raw.db";
    std::atomic<bool> stop{false};
    loop_stats tmon_st, raw_st;
    std::thread a([&] { run_tmon(tmon_db, stop, tmon_st); });
    std::thread b([&] { run_raw(raw_db, stop, raw_st); });

    std::printf("wal growth: one writer + one reader per database, %lld s\n\n", seconds);
    std::printf("%6s | %14s %12s %10s | %14s %12s %10s\n", "t (s)", "tmon WAL MiB", "points", "reads", "raw WAL MiB",
                "points", "reads");
    std::uintmax_t tmon_max = 0, raw_max = 0;
    auto sample = [&](double t) {
        auto tw = file_size(tmon_db.string() + "-wal"), rw = file_size(raw_db.string() + "-wal");
        std::printf("%6.0f | %14.1f %12lld %10lld | %14.1f %12lld %10lld\n", t, mib(tw), tmon_st.points.load(),
                    tmon_st.reads.load(), mib(rw), raw_st.points.load(), raw_st.reads.load());
        std::fflush(stdout);
    };
    stopwatch clock;
    long long next = every;
    while (clock.seconds() < static_cast<double>(seconds)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        tmon_max = std::max(tmon_max, file_size(tmon_db.string() + "-wal"));
        raw_max = std::max(raw_max, file_size(raw_db.string() + "-wal"));
        if (clock.seconds() >= static_cast<double>(next)) {
            sample(static_cast<double>(next));
            next += every;
        }
    }
    sample(clock.seconds());
    stop = true;
    a.join();
    b.join();
    std::printf("\nlargest WAL seen: tmon %.1f MiB, raw sqlite (default auto-checkpoint) %.1f MiB, ratio %.2fx\n",
                mib(tmon_max), mib(raw_max),
                tmon_max ? static_cast<double>(raw_max) / static_cast<double>(tmon_max) : 0.0);
    return 0;
}
