// What the persistent stores promise beyond the conformance suite: data
// survives closing, reopening and kill -9; damaged files are handled.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

TEMPLATE_TEST_CASE("everything written survives closing and reopening the store", "[storage][persistence]",
                   TMON_TEST_PERSISTENT_STORES) {
    fresh_store<TestType> s;
    auto in = named_run("resnet", {"vision"});
    in.config_json = R"({"lr":0.001,"layers":[1,2]})";
    in.total_steps = 100;
    auto r = s->create_run(in);
    auto gone = s->create_run(named_run("gone"));
    std::vector<metric_point> pts;
    for (step_t i = 0; i < 50; ++i) pts.push_back(point("loss", i, 1.0 / double(i + 1)));
    s->append_metrics(r.id, pts);
    std::vector<metric_point> fix{point("loss", 10, 42.0)};
    s->append_metrics(r.id, fix);
    s->append_metrics(gone.id, fix);
    auto best_in = checkpoint_for(r.id, "/c/1.pt", 10);
    best_in.is_best = true;
    auto c1 = s->add_checkpoint(best_in);
    auto c2 = s->add_checkpoint(checkpoint_for(r.id, "/c/2.pt", 20));
    auto c3 = s->add_checkpoint(checkpoint_for(r.id, "/c/3.pt", 30));
    s->mark_best(c2.id);
    s->delete_checkpoint(c3.id);
    layer_snapshot l;
    l.run_id = r.id;
    l.step = 20;
    layer_stat st;
    st.name = "conv1";
    st.gradients = tensor_stats{0.5, 1.5, -2, 2, {1, 2, 3}, -2.0, 2.0};
    l.layers.push_back(st);
    s->append_layers(l);
    system_sample sys;
    sys.time = 1234.5;
    sys.cpu_percent = 12.5;
    s->append_system(sys);
    event note;
    note.run_id = r.id;
    note.type = "warning";
    note.message = "disk almost full";
    s->append_event(note);
    s->update_run(r.id, status_to(run_status::failed));
    s->delete_run(gone.id);
    auto before = *s->get_run(r.id);
    auto events_before = s->list_events({});

    s.reopen();

    auto after = s->get_run(r.id);
    REQUIRE(after);
    CHECK(after->name == "resnet");
    CHECK(after->status == run_status::failed);
    CHECK(after->end_time == before.end_time);
    CHECK(after->config_json == R"({"lr":0.001,"layers":[1,2]})");
    CHECK(after->tags == std::vector<std::string>{"vision"});
    CHECK(after->total_steps == 100);
    CHECK(after->last_step == 49);
    CHECK(after->created_at == before.created_at);
    CHECK_FALSE(s->get_run(gone.id));
    CHECK(s->list_runs({}).total == 1);

    auto loss = s->query_metrics(series_of(r.id, "loss")).points;
    REQUIRE(loss.size() == 50);
    CHECK(loss[10].value == 42.0);
    CHECK(loss[49].value == 1.0 / 50);
    CHECK(s->latest_metrics(r.id).at(0).step == 49);

    auto ckpts = s->list_checkpoints(r.id);
    REQUIRE(ckpts.size() == 2);
    CHECK(s->get_checkpoint(c2.id)->is_best);
    CHECK_FALSE(s->get_checkpoint(c1.id)->is_best);
    CHECK_FALSE(s->get_checkpoint(c3.id));

    auto layers = s->get_layers(r.id, 25);
    REQUIRE(layers);
    CHECK(layers->layers.at(0).gradients->histogram == std::vector<double>{1, 2, 3});
    CHECK(s->system_history({}).at(0).cpu_percent == 12.5);

    auto events_after = s->list_events({});
    REQUIRE(events_after.size() == events_before.size());
    for (std::size_t i = 0; i < events_after.size(); ++i) {
        CHECK(events_after[i].id == events_before[i].id);
        CHECK(events_after[i].type == events_before[i].type);
        CHECK(events_after[i].data_json == events_before[i].data_json);
    }
    // New events continue the numbering instead of reusing ids.
    CHECK(s->append_event(note).id > events_before.back().id);
}

TEMPLATE_TEST_CASE("a write that returned survives kill -9 of the writing process", "[storage][persistence]",
                   TMON_TEST_PERSISTENT_STORES) {
    temp_dir dir;
    int acks[2];
    REQUIRE(pipe(acks) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(acks[0]);
        auto store = store_traits<TestType>::open(dir);
        auto in = named_run("crashy");
        in.id = "run_crashy";
        store->create_run(in);
        for (int batch = 0;; ++batch) {
            std::vector<metric_point> pts;
            for (int i = 0; i < 100; ++i) pts.push_back(point("loss", batch * 100 + i, double(batch)));
            store->append_metrics("run_crashy", pts);
            if (write(acks[1], &batch, sizeof batch) != sizeof batch) _exit(1);
        }
    }
    close(acks[1]);
    int acked = -1, batch = 0;
    while (acked < 30 && read(acks[0], &batch, sizeof batch) == sizeof batch) acked = batch;
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    while (read(acks[0], &batch, sizeof batch) == sizeof batch) acked = batch;  // acks already in the pipe
    close(acks[0]);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(acked >= 30);

    auto store = store_traits<TestType>::open(dir);
    auto got = store->query_metrics(series_of("run_crashy", "loss")).points;
    CHECK(got.size() >= static_cast<std::size_t>((acked + 1) * 100));
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].step == static_cast<step_t>(i));
}

namespace {
// A jsonl_store folder with one run "exp" holding `points`, closed again, so a
// test can add to its metrics file what a crash or another program leaves there.
struct closed_jsonl_run {
    temp_dir dir;
    jsonl_store::options options;
    std::string id;

    explicit closed_jsonl_run(std::vector<metric_point> points = {}) {
        options.dir = dir.path().string();
        jsonl_store s{options};
        id = s.create_run(named_run("exp")).id;
        if (!points.empty()) s.append_metrics(id, points);
    }
    void append_to_metrics_file(std::string_view text) const {
        std::ofstream f(dir.path() / "runs" / id / "metrics.jsonl", std::ios::app);
        f << text;
    }
};
}  // namespace

TEST_CASE("jsonl_store drops a torn last line with one warning and keeps what came before", "[storage]") {
    closed_jsonl_run run({point("loss", 1, 0.9), point("loss", 2, 0.8)});
    run.append_to_metrics_file(R"({"key":"loss","step":3,"ti)");  // a crash mid-write
    {
        log_capture logs;
        jsonl_store s{run.options};
        auto got = s.query_metrics(series_of(run.id, "loss")).points;
        REQUIRE(got.size() == 2);
        CHECK(got[1].value == 0.8);
        REQUIRE(logs.warnings.size() == 1);
        CHECK(logs.warnings[0].find("torn") != std::string::npos);
        CHECK(logs.warnings[0].find("metrics.jsonl") != std::string::npos);
        std::vector<metric_point> more{point("loss", 3, 0.7)};
        s.append_metrics(run.id, more);
    }
    log_capture logs;
    jsonl_store s{run.options};
    CHECK(s.query_metrics(series_of(run.id, "loss")).points.size() == 3);
    CHECK(logs.warnings.empty());  // the torn bytes were cut, the new line is whole
}

TEST_CASE("jsonl_store skips a corrupt line in the middle of a file with a warning", "[storage]") {
    closed_jsonl_run run;
    run.append_to_metrics_file(
        "not json at all\n"
        R"({"key":"loss","step":5,"time":1.0,"value":0.5})"
        "\n");
    log_capture logs;
    jsonl_store s{run.options};
    CHECK(s.query_metrics(series_of(run.id, "loss")).points.size() == 1);
    CHECK(logs.warnings.size() == 1);
}

namespace {
std::vector<std::string> lines_of(const std::filesystem::path& file) {
    std::ifstream f(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(f, line);) out.push_back(line);
    return out;
}
}  // namespace

TEST_CASE("jsonl_store writes one line per key per append, and reads it back after reopening", "[storage]") {
    fresh_store<jsonl_store> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<metric_point> pts;
    for (step_t i = 0; i < 100; ++i) {
        pts.push_back(point("loss", i, 1.0 / double(i + 1)));
        pts.push_back(point("lr", i, 0.1 * std::pow(0.99, double(i))));
    }
    s->append_metrics(r.id, pts);
    auto lines = lines_of(s.dir.path() / "runs" / "runs" / r.id / "metrics.jsonl");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind(R"({"key":"loss","steps":[0,1,2,)", 0) == 0);
    CHECK(lines[1].rfind(R"({"key":"lr","steps":[0,1,2,)", 0) == 0);

    s.reopen();
    auto loss = s->query_metrics(series_of(r.id, "loss")).points;
    auto lr = s->query_metrics(series_of(r.id, "lr")).points;
    REQUIRE(loss.size() == 100);
    REQUIRE(lr.size() == 100);
    for (std::size_t i = 0; i < 100; ++i) {
        REQUIRE(loss[i].step == static_cast<step_t>(i));
        REQUIRE(loss[i].value == pts[2 * i].value);  // bit-exact: shortest round-trip text
        REQUIRE(loss[i].time == pts[2 * i].time);
        REQUIRE(lr[i].value == pts[2 * i + 1].value);
    }
    CHECK(s->get_run(r.id)->last_step == 99);
}

TEST_CASE("jsonl_store reads back a metrics file many read blocks long, with lines longer than a block, in file order",
          "[storage]") {
    fresh_store<jsonl_store> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<metric_point> long_line;  // one key, one line of ~2.9 MB: over two 1 MiB read blocks
    for (step_t i = 0; i < 80'000; ++i) long_line.push_back(point("loss", i, 1.0 / double(i + 7)));
    s->append_metrics(r.id, long_line);
    for (step_t b = 0; b < 40; ++b) {  // then many short lines, a block's end falling inside some
        std::vector<metric_point> batch;
        for (step_t i = 0; i < 250; ++i)
            for (const char* key : {"loss", "acc", "lr", "grad_norm"})
                batch.push_back(point(key, 80'000 + b * 250 + i, std::sqrt(double(b * 250 + i + 3))));
        s->append_metrics(r.id, batch);
    }
    std::vector<metric_point> rewrite;  // steps from the first line written again, megabytes later
    for (step_t i = 0; i < 1000; ++i) rewrite.push_back(point("loss", i, -1.0 - double(i)));
    s->append_metrics(r.id, rewrite);
    auto file = s.dir.path() / "runs" / "runs" / r.id / "metrics.jsonl";
    REQUIRE(std::filesystem::file_size(file) > 3 * (std::size_t{1} << 20));
    std::map<std::string, std::vector<series_point>> before;
    for (const auto& key : s->metric_keys(r.id)) before[key] = s->query_metrics(series_of(r.id, key)).points;

    log_capture logs;
    s.reopen();
    CHECK(logs.warnings.empty());
    REQUIRE(before.at("loss").size() == 90'000);
    CHECK(before.at("loss")[5].value == -6.0);  // the later write won before reopening; the loop checks it still does
    for (const auto& [key, points] : before) {
        INFO(key);
        auto after = s->query_metrics(series_of(r.id, key)).points;
        REQUIRE(after.size() == points.size());
        for (std::size_t i = 0; i < after.size(); ++i) {
            REQUIRE(after[i].step == points[i].step);
            REQUIRE(after[i].time == points[i].time);
            REQUIRE(after[i].value == points[i].value);
        }
    }
    CHECK(s->get_run(r.id)->last_step == 89'999);
}

TEST_CASE("jsonl_store keeps the last write of a step repeated within one append, also after reopening", "[storage]") {
    fresh_store<jsonl_store> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<metric_point> pts{point("loss", 1, 1.0), point("acc", 1, 0.5), point("loss", 1, 2.0),
                                  point("loss", 0, 3.0), point("acc", 1, 0.7)};
    s->append_metrics(r.id, pts);
    auto check = [&] {
        auto loss = s->query_metrics(series_of(r.id, "loss")).points;
        REQUIRE(loss.size() == 2);
        CHECK(loss[0].value == 3.0);
        CHECK(loss[1].value == 2.0);
        auto acc = s->query_metrics(series_of(r.id, "acc")).points;
        REQUIRE(acc.size() == 1);
        CHECK(acc[0].value == 0.7);
    };
    check();
    s.reopen();
    check();
}

TEST_CASE("jsonl_store keeps metric keys with quotes, backslashes, control and non-ASCII characters", "[storage]") {
    fresh_store<jsonl_store> s;
    auto r = s->create_run(named_run("exp"));
    std::vector<std::string> keys{"say \"hi\"", "a\\b", "tab\there\nnewline", "\x01", "grad/层.0/µ"};
    std::vector<metric_point> pts;
    for (std::size_t k = 0; k < keys.size(); ++k) pts.push_back(point(keys[k], 7, double(k)));
    s->append_metrics(r.id, pts);
    s.reopen();
    auto got = s->metric_keys(r.id);
    std::sort(got.begin(), got.end());
    std::sort(keys.begin(), keys.end());
    CHECK(got == keys);
    CHECK(s->query_metrics(series_of(r.id, "grad/层.0/µ")).points.at(0).value == 4.0);
}

TEST_CASE("jsonl_store reads metric files written one point per line, in file order with the newer lines",
          "[storage]") {
    closed_jsonl_run run;
    run.append_to_metrics_file(R"({"key":"loss","step":1,"time":1700000001.5,"value":0.9})"
                               "\n"
                               R"({"key":"loss","step":2,"time":1700000002.5,"value":0.8})"
                               "\n"
                               R"({"key":"acc","step":2,"time":1700000002.5,"value":0.1})"
                               "\n");
    {
        jsonl_store s{run.options};
        CHECK(s.query_metrics(series_of(run.id, "loss")).points.size() == 2);
        std::vector<metric_point> fix{point("loss", 2, 0.75), point("loss", 3, 0.7)};
        s.append_metrics(run.id, fix);
    }
    log_capture logs;
    jsonl_store s{run.options};
    auto loss = s.query_metrics(series_of(run.id, "loss")).points;
    REQUIRE(loss.size() == 3);
    CHECK(loss[0].time == 1700000001.5);
    CHECK(loss[1].value == 0.75);  // the newer columnar line wins over the older per-point line
    CHECK(loss[2].value == 0.7);
    CHECK(s.query_metrics(series_of(run.id, "acc")).points.at(0).value == 0.1);
    CHECK(s.get_run(run.id)->last_step == 3);
    CHECK(logs.warnings.empty());
}

TEST_CASE("jsonl_store skips a metrics line whose columns disagree in length, with a warning", "[storage]") {
    closed_jsonl_run run({point("loss", 1, 0.9)});
    run.append_to_metrics_file(R"({"key":"loss","steps":[2,3],"times":[1.0,2.0],"values":[0.5]})"
                               "\n");
    log_capture logs;
    jsonl_store s{run.options};
    CHECK(s.query_metrics(series_of(run.id, "loss")).points.size() == 1);
    REQUIRE(logs.warnings.size() == 1);
    CHECK(logs.warnings[0].find("metrics.jsonl") != std::string::npos);
}

TEMPLATE_TEST_CASE("points from concurrent writers all come back after reopening", "[storage][persistence]",
                   TMON_TEST_PERSISTENT_STORES) {
    fresh_store<TestType> s;
    auto r = s->create_run(named_run("exp"));
    constexpr int writers = 4, batches = 20, per_batch = 100;
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            for (int b = 0; b < batches; ++b) {
                std::vector<metric_point> pts;
                for (int i = 0; i < per_batch; ++i) {
                    pts.push_back(point("shared", w * batches * per_batch + b * per_batch + i, double(w)));
                    pts.push_back(point("key" + std::to_string(w), b * per_batch + i, double(i)));
                }
                s->append_metrics(r.id, pts);
            }
        });
    for (auto& t : threads) t.join();
    s.reopen();
    auto shared = s->query_metrics(series_of(r.id, "shared")).points;
    REQUIRE(shared.size() == static_cast<std::size_t>(writers * batches * per_batch));
    for (std::size_t i = 0; i < shared.size(); ++i) {
        REQUIRE(shared[i].step == static_cast<step_t>(i));
        REQUIRE(shared[i].value == double(i / (batches * per_batch)));
    }
    for (int w = 0; w < writers; ++w)
        CHECK(s->query_metrics(series_of(r.id, "key" + std::to_string(w))).points.size() ==
              static_cast<std::size_t>(batches * per_batch));
}

TEST_CASE("jsonl_store refuses a run id that is not a plain folder name", "[storage]") {
    fresh_store<jsonl_store> s;
    for (auto bad : {"../escape", "a/b", ".hidden", ""}) {
        auto in = named_run("x");
        in.id = bad;
        CHECK_THROWS_AS(s->create_run(in), tmon::error);
    }
    CHECK(s->list_runs({}).total == 0);
    CHECK_FALSE(std::filesystem::exists(s.dir.path() / "escape"));
}

TEST_CASE("sqlite_store refuses a database written by a newer schema version", "[storage]") {
    temp_dir dir;
    sqlite_store::options o;
    o.path = (dir.path() / "tmon.db").string();
    { sqlite_store s{o}; }
    {
        detail::sqlite_connection db{o.path, SQLITE_OPEN_READWRITE};
        db.exec("UPDATE schema_version SET version = 99");
    }
    try {
        sqlite_store s{o};
        FAIL("a newer schema was opened");
    } catch (const tmon::error& e) {
        CHECK(std::string{e.what()}.find("schema version 99") != std::string::npos);
        CHECK(std::string{e.what()}.find("newer") != std::string::npos);
    }
}

TEST_CASE("sqlite_store compacts many one-point appends into few blocks and reads them back exactly", "[storage]") {
    fresh_store<sqlite_store> s;
    auto r = s->create_run(named_run("exp"));
    for (step_t i = 0; i < 1000; ++i) {
        std::vector<metric_point> one{point("loss", i, double(i))};
        s->append_metrics(r.id, one);
    }
    std::vector<metric_point> rewrite{point("loss", 500, -1.0)};
    s->append_metrics(r.id, rewrite);
    auto got = s->query_metrics(series_of(r.id, "loss")).points;
    REQUIRE(got.size() == 1000);
    for (std::size_t i = 0; i < got.size(); ++i) {
        REQUIRE(got[i].step == static_cast<step_t>(i));
        REQUIRE(got[i].value == (i == 500 ? -1.0 : double(i)));
    }
    detail::sqlite_connection db{(s.dir.path() / "tmon.db").string(), SQLITE_OPEN_READONLY};
    auto count = db.prepare("SELECT count(*) FROM metric_blocks");
    REQUIRE(count.step());
    CHECK(count.int64(0) < 100);
}

namespace {

sqlite_store::options small_wal_options(const temp_dir& dir) {
    sqlite_store::options o;
    o.path = (dir.path() / "tmon.db").string();
    o.checkpoint_bytes = 1 << 20;
    o.wal_max_bytes = 1LL << 40;  // never reached: only the checkpointers keep it small
    o.journal_size_limit = 0;     // a restarted WAL shrinks, so its size shows a completed checkpoint
    return o;
}

void append_batch(sqlite_store& s, const std::string& run_id, int batch) {
    std::vector<metric_point> pts;
    for (int i = 0; i < 1000; ++i) pts.push_back(point("loss", batch * 1000 + i, double(i)));
    s.append_metrics(run_id, pts);
}

}  // namespace

TEST_CASE("sqlite_store checkpoints in the background between writes", "[storage]") {
    temp_dir dir;
    sqlite_store s{small_wal_options(dir)};
    auto r = s.create_run(named_run("exp"));
    int batches = 0;
    while (s.wal_size_bytes() < (1u << 20)) append_batch(s, r.id, batches++);
    REQUIRE(s.wal_size_bytes() < (2u << 20));  // below the writer's own catch-up threshold

    // Small writes, paced: the checkpointer thread copies the WAL back and a
    // later commit restarts it from the start, well before the writer would
    // have to catch up itself at twice checkpoint_bytes.
    int ticks = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto wal = [&] { return s.wal_size_bytes(); };
    while (wal() >= (1u << 20) && wal() < (2u << 20) && std::chrono::steady_clock::now() < deadline) {
        s.append_metrics(r.id, std::vector{point("tick", ticks++, 1.0)});
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(s.wal_size_bytes() < (1u << 20));
    CHECK(s.query_metrics(series_of(r.id, "loss")).points.size() == 1000u * static_cast<std::size_t>(batches));
    CHECK(s.query_metrics(series_of(r.id, "tick")).points.size() == static_cast<std::size_t>(ticks));
}

TEST_CASE("sqlite_store keeps the WAL bounded under back-to-back writes", "[storage]") {
    temp_dir dir;
    sqlite_store s{small_wal_options(dir)};
    auto r = s.create_run(named_run("exp"));
    std::uintmax_t largest = 0;
    for (int batch = 0; batch < 600; ++batch) {  // ~14 MB of points
        append_batch(s, r.id, batch);
        largest = std::max(largest, s.wal_size_bytes());
    }
    CHECK(largest < 4u << 20);
    CHECK(s.query_metrics(series_of(r.id, "loss")).points.size() == 600'000u);
}

TEST_CASE("sqlite_store keeps the WAL bounded while a reader keeps reading", "[storage]") {
    temp_dir dir;
    sqlite_store::options o;
    o.path = (dir.path() / "tmon.db").string();
    o.checkpoint_bytes = 1 << 20;
    o.wal_max_bytes = 3 << 20;
    o.journal_size_limit = 2 << 20;
    sqlite_store s{o};
    auto r = s.create_run(named_run("exp"));
    std::atomic<bool> done{false};
    std::thread reader([&] {
        while (!done) s.query_metrics(series_of(r.id, "loss"));
    });
    std::uintmax_t largest = 0;
    for (int batch = 0; batch < 1000; ++batch) {  // ~24 MB of points, 12x the size limit
        append_batch(s, r.id, batch);
        largest = std::max(largest, s.wal_size_bytes());
    }
    done = true;
    reader.join();
    CHECK(largest < 12u << 20);
    s.flush();
    CHECK(s.wal_size_bytes() == 0);
}
