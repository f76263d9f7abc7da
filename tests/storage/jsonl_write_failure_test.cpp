// A jsonl_store write that fails (disk full, file size limit, a failed sync)
// must leave its file exactly as it was: no fragment for the next acknowledged
// lines to be glued to, so a reopen reads the acknowledged records and none of
// the rejected ones. The failures here are real: RLIMIT_FSIZE makes write(2)
// fail with EFBIG part way through a batch, as a full disk does, without root.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

// While it lives, no file this process writes may grow past `bytes`: a write
// crossing it is cut short, and the next fails with EFBIG (SIGXFSZ ignored).
// Kept to the one store call under test, so nothing else writes meanwhile.
class file_size_limit {
public:
    explicit file_size_limit(std::uintmax_t bytes) {
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
        REQUIRE((saved_.rlim_max == RLIM_INFINITY || saved_.rlim_max >= bytes));
        old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit lower = saved_;
        lower.rlim_cur = static_cast<rlim_t>(bytes);
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &lower) == 0);
    }
    ~file_size_limit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);  // raising the soft limit back up to the hard one needs no privilege
        std::signal(SIGXFSZ, old_handler_);
    }
    file_size_limit(const file_size_limit&) = delete;
    file_size_limit& operator=(const file_size_limit&) = delete;

private:
    rlimit saved_{};
    void (*old_handler_)(int) = SIG_DFL;
};

// The error a write refused by the limit must throw, or "" if it threw none.
template <class F>
std::string refused_write(const std::filesystem::path& file, F&& write) {
    const auto limit = std::filesystem::file_size(file) + 4096;  // the write below is many times this
    file_size_limit guard{limit};
    try {
        write();
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::unavailable);  // the server answers 503
        return e.what();
    }
    return {};
}

std::vector<metric_point> batch(const std::string& key, step_t first, step_t count) {
    std::vector<metric_point> pts;
    for (step_t i = first; i < first + count; ++i) pts.push_back(point(key, i, 1.0 / double(i + 3)));
    return pts;
}

jsonl_store::options store_in(const temp_dir& dir, bool fsync = false) {
    jsonl_store::options o;
    o.dir = dir.path().string();
    o.fsync = fsync;
    return o;
}

}  // namespace

TEST_CASE(
    "a metrics batch that fails part way leaves the file as it was, and a reopen reads exactly the acknowledged points",
    "[storage]") {
    const bool fsync = GENERATE(false, true);
    INFO("fsync " << fsync);
    temp_dir dir;
    const auto file = dir.path() / "runs" / "exp" / "metrics.jsonl";
    {
        jsonl_store s{store_in(dir, fsync)};
        auto in = named_run("exp");
        in.id = "exp";
        s.create_run(in);
        s.append_metrics("exp", batch("loss", 0, 100));  // acknowledged
        const auto before = std::filesystem::file_size(file);

        // 5,000 points over two keys: ~100 KB, cut off by the limit 4 KB in.
        std::vector<metric_point> rejected = batch("loss", 100, 2500);
        for (auto& p : batch("acc", 0, 2500)) rejected.push_back(p);
        auto what = refused_write(file, [&] { s.append_metrics("exp", rejected); });
        CHECK(what.find(std::strerror(EFBIG)) != std::string::npos);  // the OS's reason
        CHECK(what.find(file.string()) != std::string::npos);
        CHECK(std::filesystem::file_size(file) == before);
        CHECK(s.query_metrics(series_of("exp", "loss")).points.size() == 100);  // the store's state unchanged too
        CHECK(s.metric_keys("exp") == std::vector<std::string>{"loss"});

        s.append_metrics("exp", batch("loss", 200, 50));  // acknowledged, after the limit is lifted
    }
    log_capture logs;
    jsonl_store s{store_in(dir)};
    CHECK(logs.warnings.empty());  // every line whole: nothing glued to a fragment
    auto loss = s.query_metrics(series_of("exp", "loss")).points;
    REQUIRE(loss.size() == 150);
    for (std::size_t i = 0; i < loss.size(); ++i) {
        const step_t step = i < 100 ? static_cast<step_t>(i) : static_cast<step_t>(100 + i);
        REQUIRE(loss[i].step == step);
        REQUIRE(loss[i].value == 1.0 / double(step + 3));
    }
    CHECK(s.metric_keys("exp") == std::vector<std::string>{"loss"});
}

namespace {

// One kind of record a write can add, each in its own file: `write` adds a
// record carrying `text`, `read` lists the texts the store shows.
struct record_kind {
    const char* name;
    std::filesystem::path file;  // relative to the store's folder
    std::function<void(jsonl_store&, const std::string& text)> write;
    std::function<std::vector<std::string>(jsonl_store&)> read;
};

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<record_kind> record_kinds() {
    static int serial = 0;  // distinct steps and times for each write
    return {
        {"a run record", "runs/exp/run.jsonl",
         [](jsonl_store& s, const std::string& text) {
             run_update u;
             u.notes = text;
             s.update_run("exp", u);
         },
         [](jsonl_store& s) { return std::vector<std::string>{s.get_run("exp")->notes}; }},
        {"a checkpoint", "runs/exp/checkpoints.jsonl",
         [](jsonl_store& s, const std::string& text) {
             s.add_checkpoint(checkpoint_for("exp", "/c/" + text, ++serial));
         },
         [](jsonl_store& s) {
             std::vector<std::string> out;
             for (const auto& c : s.list_checkpoints("exp")) out.push_back(c.filepath.substr(3));
             return sorted(out);
         }},
        {"a layer snapshot", "runs/exp/layers.jsonl",
         [](jsonl_store& s, const std::string& text) {
             layer_snapshot l;
             l.run_id = "exp";
             l.step = ++serial;
             l.layers.push_back(layer_stat{text, tensor_stats{}, std::nullopt, std::nullopt});
             s.append_layers(l);
         },
         [](jsonl_store& s) {
             std::vector<std::string> out;
             for (auto step : s.layer_steps("exp")) out.push_back(s.get_layers("exp", step)->layers.at(0).name);
             return sorted(out);
         }},
        {"a run's event", "runs/exp/events.jsonl",
         [](jsonl_store& s, const std::string& text) {
             event e;
             e.run_id = "exp";
             e.type = "note";
             e.message = text;
             s.append_event(e);
         },
         [](jsonl_store& s) {
             event_query q;
             q.run_id = "exp";
             std::vector<std::string> out;
             for (const auto& e : s.list_events(q))
                 if (e.type == "note") out.push_back(e.message);
             return sorted(out);
         }},
        {"a system sample", "system.jsonl",
         [](jsonl_store& s, const std::string& text) {
             system_sample x;
             x.time = 1000.0 + ++serial;
             x.gpus.push_back(gpu_sample{0, text, 50, 1, 2, 40, 100});
             s.append_system(x);
         },
         [](jsonl_store& s) {
             std::vector<std::string> out;
             for (const auto& x : s.system_history({})) out.push_back(x.gpus.at(0).name);
             return sorted(out);
         }},
        {"an event of no run", "events.jsonl",
         [](jsonl_store& s, const std::string& text) {
             event e;
             e.type = "note";
             e.message = text;
             s.append_event(e);
         },
         [](jsonl_store& s) {
             std::vector<std::string> out;
             for (const auto& e : s.list_events({}))
                 if (e.type == "note" && e.run_id.empty()) out.push_back(e.message);
             return sorted(out);
         }},
    };
}

}  // namespace

TEST_CASE(
    "a failed write of any kind of record leaves its file as it was, and a reopen reads exactly the acknowledged ones",
    "[storage]") {
    for (const auto& kind : record_kinds()) {
        INFO(kind.name);
        temp_dir dir;
        const auto file = dir.path() / kind.file;
        const bool last_wins = kind.file.filename() == "run.jsonl";  // a run record replaces the one before
        const std::string big(96 << 10, 'x');                        // many times the 4 KB the limit leaves
        {
            jsonl_store s{store_in(dir)};
            auto in = named_run("exp");
            in.id = "exp";
            s.create_run(in);
            kind.write(s, "first");
            const auto before = std::filesystem::file_size(file);

            auto what = refused_write(file, [&] { kind.write(s, big); });
            CHECK(what.find(std::strerror(EFBIG)) != std::string::npos);
            CHECK(what.find(file.string()) != std::string::npos);
            CHECK(std::filesystem::file_size(file) == before);
            CHECK(kind.read(s) == std::vector<std::string>{"first"});

            kind.write(s, "then");
        }
        log_capture logs;
        jsonl_store s{store_in(dir)};
        CHECK(logs.warnings.empty());
        CHECK(kind.read(s) ==
              (last_wins ? std::vector<std::string>{"then"} : std::vector<std::string>{"first", "then"}));
    }
}

TEST_CASE("a file whose failed write cannot be cut off refuses every later write", "[storage]") {
    // A FIFO is a real file that cannot be synced or truncated: with fsync on,
    // the first write reaches it, its sync fails, and so does cutting it back.
    temp_dir dir;
    log_capture logs;  // the store logs the damage as an error: kept off the test's output
    jsonl_store s{store_in(dir, true)};
    const auto file = dir.path() / "system.jsonl";
    REQUIRE(::mkfifo(file.c_str(), 0600) == 0);
    const int reader = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(reader >= 0);
    auto drain = [&] {
        char buf[4096];
        std::size_t total = 0;
        for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;) total += static_cast<std::size_t>(n);
        return total;
    };
    system_sample x;
    x.time = 1.0;
    try {
        s.append_system(x);
        FAIL("a write whose sync failed was acknowledged");
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::unavailable);
        CHECK(std::string{e.what()}.find("refuses writes") != std::string::npos);
    }
    CHECK(drain() > 0);  // the failed write's bytes got through: the file is damaged

    for (int attempt = 0; attempt < 2; ++attempt) {
        x.time += 1;
        try {
            s.append_system(x);
            FAIL("a write after an uncut fragment was acknowledged");
        } catch (const tmon::error& e) {
            CHECK(e.code() == errc::unavailable);
            CHECK(std::string{e.what()}.find("refusing to write after it") != std::string::npos);
        }
        CHECK(drain() == 0);  // nothing written after the fragment
    }
    CHECK(s.system_history({}).empty());
    ::close(reader);
}
