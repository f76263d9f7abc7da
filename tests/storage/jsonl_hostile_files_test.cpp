// A jsonl_store reads its files back as warily as a request body: a line too
// deeply nested, not UTF-8, not JSON or of the wrong types, and a folder whose
// name is no run id, never stop it from opening; each is skipped or read as a
// default with a warning, and every other record is kept.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

// One record of every kind, each telling `n` apart.
void write_one_of_each(jsonl_store& s, int n) {
    s.append_metrics("exp", std::vector{point("loss", n, double(n))});
    s.add_checkpoint(checkpoint_for("exp", fmt::format("/c/{}.pt", n), n));
    layer_snapshot l;
    l.run_id = "exp";
    l.step = n;
    l.layers.push_back(layer_stat{fmt::format("conv{}", n), std::nullopt, std::nullopt, std::nullopt});
    s.append_layers(l);
    event e;
    e.run_id = "exp";
    e.type = "note";
    e.message = fmt::format("note {}", n);
    s.append_event(e);
    system_sample x;
    x.time = 1000 + n;
    x.cpu_percent = n;
    s.append_system(x);
    event g;
    g.type = "note";
    g.message = fmt::format("global {}", n);
    s.append_event(g);
}

// A store folder with run "exp" holding one record of every kind, closed, so
// a test can add to its files what another program or a damaged disk leaves.
struct closed_store {
    temp_dir dir;
    jsonl_store::options options;

    closed_store() {
        options.dir = dir.path().string();
        jsonl_store s{options};
        auto in = named_run("exp");
        in.id = "exp";
        in.notes = "kept";
        s.create_run(in);
        write_one_of_each(s, 1);
    }
    std::filesystem::path file(std::string_view relative) const { return dir.path() / relative; }
    void append(std::string_view relative, std::string_view text) const {
        std::ofstream f(file(relative), std::ios::app | std::ios::binary);
        f << text;
    }
    void replace(std::string_view relative, std::string_view text) const {
        std::ofstream f(file(relative), std::ios::trunc | std::ios::binary);
        f << text;
    }
};

const std::vector<std::string> every_file{
    "runs/exp/run.jsonl",    "runs/exp/metrics.jsonl", "runs/exp/checkpoints.jsonl",
    "runs/exp/layers.jsonl", "runs/exp/events.jsonl",  "system.jsonl",
    "events.jsonl"};

// The warnings naming `file` (a full path: the store's events.jsonl is no
// substring of a run's).
std::vector<std::string> warnings_about(const log_capture& logs, const std::filesystem::path& file) {
    std::vector<std::string> out;
    for (const auto& w : logs.warnings)
        if (w.find(file.string()) != std::string::npos) out.push_back(w);
    return out;
}

// What the store shows of each kind of record, as text.
struct contents {
    std::vector<std::string> keys, checkpoints, layers, notes, globals;
    std::vector<step_t> loss_steps;
    std::vector<double> system_times;
    bool operator==(const contents&) const = default;
};

contents contents_of(jsonl_store& s) {
    contents c;
    c.keys = s.metric_keys("exp");
    for (const auto& p : s.query_metrics(series_of("exp", "loss")).points) c.loss_steps.push_back(p.step);
    for (const auto& x : s.list_checkpoints("exp")) c.checkpoints.push_back(x.filepath);
    for (auto step : s.layer_steps("exp")) {
        auto snap = s.get_layers("exp", step);
        for (const auto& l : snap->layers) c.layers.push_back(l.name);
    }
    event_query q;
    q.run_id = "exp";
    for (const auto& e : s.list_events(q))
        if (e.type == "note") c.notes.push_back(e.message);
    for (const auto& e : s.list_events({}))
        if (e.type == "note" && e.run_id.empty()) c.globals.push_back(e.message);
    for (const auto& x : s.system_history({})) c.system_times.push_back(x.time);
    std::sort(c.checkpoints.begin(), c.checkpoints.end());
    return c;
}

contents written_up_to(int n) {
    contents c;
    c.keys = {"loss"};
    for (int i = 1; i <= n; ++i) {
        c.loss_steps.push_back(i);
        c.checkpoints.push_back(fmt::format("/c/{}.pt", i));
        c.layers.push_back(fmt::format("conv{}", i));
        c.notes.push_back(fmt::format("note {}", i));
        c.globals.push_back(fmt::format("global {}", i));
        c.system_times.push_back(1000 + i);
    }
    return c;
}

std::string nested(std::size_t depth) { return R"({"run":)" + std::string(depth, '[') + std::string(depth, ']') + "}"; }

}  // namespace

TEST_CASE(
    "jsonl_store opens past a 90,000-deep line and a line of invalid UTF-8 in every kind of file, keeping every other record",
    "[storage]") {
    closed_store st;
    // Each invalid-UTF-8 line is otherwise a record the store would apply.
    const std::vector<std::string> bad_utf8{
        R"({"run":{"id":"exp","name":"bad)"
        "\xff"
        R"(","status":"running","notes":"bad"},"events":[]})",
        R"({"key":"bad)"
        "\xC0\xAF"
        R"(","steps":[7],"times":[1.0],"values":[1.0]})",
        R"({"op":"saved","checkpoint":{"id":"ckpt_bad","run_id":"exp","filepath":"/c/bad)"
        "\xed\xa0\x80"
        R"(.pt","step":7},"events":[]})",
        R"({"run_id":"exp","step":7,"time":1,"layers":[{"name":"bad)"
        "\xff"
        R"("}]})",
        R"({"id":900,"run_id":"exp","time":1,"type":"note","message":"bad)"
        "\x80"
        R"(","data":{}})",
        R"({"time":1007,"cpu_percent":1,"gpus":[{"name":"bad)"
        "\xfe"
        R"("}]})",
        R"({"id":901,"run_id":"","time":1,"type":"note","message":"bad)"
        "\xf8\x88\x80\x80\x80"
        R"(","data":{}})",
    };
    for (std::size_t i = 0; i < every_file.size(); ++i)
        st.append(every_file[i], nested(90'000) + "\n" + bad_utf8[i] + "\n");

    auto check_open = [&](int records_each) {
        log_capture logs;
        auto s = std::make_unique<jsonl_store>(st.options);
        CHECK(contents_of(*s) == written_up_to(records_each));
        auto run = s->get_run("exp");
        REQUIRE(run);
        CHECK(run->name == "exp");
        CHECK(run->notes == "kept");
        CHECK(s->list_runs({}).total == 1);
        for (const auto& f : every_file) {
            INFO(f);
            auto about = warnings_about(logs, st.file(f));
            REQUIRE(about.size() == 1);  // one warning per file, however many lines it skips
            CHECK(about[0].find("skipping 2 malformed lines") != std::string::npos);
            CHECK(about[0].find("nested deeper than 128 levels") != std::string::npos);  // the first one's reason
        }
        CHECK(logs.warnings.size() == every_file.size());
        return s;
    };
    auto s = check_open(1);
    write_one_of_each(*s, 2);  // written after the bad lines, on lines of their own
    s.reset();
    check_open(2);
}

TEST_CASE("jsonl_store says why it skips a line of invalid UTF-8", "[storage]") {
    closed_store st;
    st.append("runs/exp/metrics.jsonl", R"({"key":"lo)"
                                        "\xff"
                                        R"(ss","steps":[7],"times":[1.0],"values":[1.0]})"
                                        "\n");
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(s.metric_keys("exp") == std::vector<std::string>{"loss"});
    REQUIRE(logs.warnings.size() == 1);
    CHECK(logs.warnings[0].find("skipping a malformed line in " + st.file("runs/exp/metrics.jsonl").string()) !=
          std::string::npos);
    CHECK(logs.warnings[0].find("invalid UTF-8") != std::string::npos);
}

TEST_CASE(
    "a run record with fields of the wrong type keeps the run under its folder's id, with its metrics and checkpoints",
    "[storage]") {
    closed_store st;
    const std::string mistyped =
        R"({"run":{"id":5,"name":[],"status":"completed","config":{"lr":0.1},"tags":"vision","notes":7,)"
        R"("start_time":"yesterday","end_time":"x","created_at":{},"updated_at":null,"total_steps":2.5,"last_step":"x"},)"
        R"("events":[]})"
        "\n";
    run_info before;
    {
        jsonl_store s{st.options};
        before = *s.get_run("exp");
    }

    SECTION("after a well-typed record: each mistyped field keeps that record's value") {
        st.append("runs/exp/run.jsonl", mistyped);
        log_capture logs;
        jsonl_store s{st.options};
        CHECK(s.list_runs({}).total == 1);
        CHECK_FALSE(s.get_run(""));
        auto run = s.get_run("exp");
        REQUIRE(run);
        CHECK(run->name == "exp");
        CHECK(run->notes == "kept");
        CHECK(run->status == run_status::completed);  // what was well typed is read
        CHECK(run->config_json == R"({"lr":0.1})");
        CHECK(run->created_at == before.created_at);
        CHECK(run->start_time == before.start_time);
        CHECK(run->tags.empty());
        CHECK_FALSE(run->total_steps);
        CHECK(contents_of(s) == written_up_to(1));
        REQUIRE(logs.warnings.size() == 1);
        CHECK(logs.warnings[0].find(st.file("runs/exp/run.jsonl").string()) != std::string::npos);
        CHECK(logs.warnings[0].find("of the wrong type") != std::string::npos);
        CHECK(logs.warnings[0].find("(the first: 'id')") != std::string::npos);
    }
    SECTION("as the only record: the run is named after its folder") {
        st.replace("runs/exp/run.jsonl", mistyped);
        log_capture logs;
        jsonl_store s{st.options};
        CHECK(s.list_runs({}).total == 1);
        auto run = s.get_run("exp");
        REQUIRE(run);
        CHECK(run->name == "exp");
        CHECK(run->notes.empty());
        CHECK(contents_of(s) == written_up_to(1));
        CHECK(logs.warnings.size() == 1);
    }
}

TEST_CASE(
    "jsonl_store reads every field back type-checked: a record missing what identifies it is skipped, a mistyped field reads as its default",
    "[storage]") {
    closed_store st;
    st.append(
        "runs/exp/checkpoints.jsonl",
        R"({"op":"saved","checkpoint":{"id":"c_typed","run_id":5,"filepath":"/c/typed.pt","step":"x","is_best":"yes","created_at":"x"},"events":[]})"
        "\n"
        R"({"op":"exploded","checkpoint":{"id":"c_op","filepath":"/c/op.pt"},"events":[]})"
        "\n"
        R"({"op":"saved","checkpoint":{"id":7,"filepath":"/c/no-id.pt"},"events":[]})"
        "\n");
    st.append("runs/exp/metrics.jsonl",
              R"({"key":"loss","steps":[2,"x",4,5.5,1e300],"times":[1,1,1,1,1],"values":[0.5,0.5,null,0.5,0.5]})"
              "\n"
              R"({"key":"loss","step":3.5,"time":1,"value":0.5})"
              "\n"
              R"({"key":"loss","step":9,"time":1})"
              "\n");
    st.append("runs/exp/layers.jsonl",
              R"({"run_id":"exp","time":1,"layers":[]})"
              "\n"
              R"({"run_id":"exp","step":1e300,"time":1,"layers":[]})"
              "\n"
              R"({"run_id":"exp","step":5,"time":"x","layers":[{"name":"typed","gradients":"x"},7]})"
              "\n");
    st.append("runs/exp/events.jsonl", R"({"id":"x","run_id":"exp","type":"note","message":"no id"})"
                                       "\n"
                                       R"({"id":9223372036854775807,"run_id":"exp","type":"note","message":"too big"})"
                                       "\n"
                                       R"({"id":0,"run_id":"exp","type":"note","message":"zero"})"
                                       "\n"
                                       R"({"id":50,"run_id":"exp","time":"x","type":"note","message":7})"
                                       "\n");
    st.append("system.jsonl",
              R"({"time":"x","cpu_percent":1})"
              "\n"
              R"({"time":1005,"cpu_percent":"x","memory_used":-1,"gpus":[{"index":1e300,"name":5},"x"]})"
              "\n");
    st.append("events.jsonl", R"({"id":-3,"type":"note","message":"negative"})"
                              "\n");

    log_capture logs;
    jsonl_store s{st.options};
    auto want = written_up_to(1);
    want.checkpoints = {"/c/1.pt", "/c/typed.pt"};
    want.loss_steps = {1, 2};
    want.layers = {"conv1", "typed"};
    want.notes = {"note 1", ""};
    want.system_times = {1001, 1005};
    CHECK(contents_of(s) == want);

    auto typed = s.get_checkpoint("c_typed");
    REQUIRE(typed);
    CHECK(typed->run_id == "exp");  // the folder's run, not 5
    CHECK_FALSE(typed->step);
    CHECK_FALSE(typed->is_best);
    CHECK(s.get_layers("exp", 5)->layers.at(0).gradients == std::nullopt);
    auto sample = s.system_history({}).back();
    CHECK(sample.cpu_percent == 0);
    CHECK(sample.memory_used == 0);
    REQUIRE(sample.gpus.size() == 1);
    CHECK(sample.gpus[0].index == 0);
    CHECK(sample.gpus[0].name.empty());
    CHECK(s.append_event(event{0, "exp", 0, "note", "next", "{}"}).id == 51);  // numbering goes on from the valid ids

    auto about = [&](std::string_view f) { return warnings_about(logs, st.file(f)); };
    CHECK(about("runs/exp/checkpoints.jsonl").size() == 2);  // records skipped; fields read as defaults
    CHECK(about("runs/exp/metrics.jsonl").size() == 1);
    CHECK(about("runs/exp/metrics.jsonl").at(0).find("skipping 6 unreadable records") != std::string::npos);
    CHECK(about("runs/exp/layers.jsonl").size() == 2);
    CHECK(about("runs/exp/events.jsonl").size() == 2);
    CHECK(about("system.jsonl").size() == 2);
    CHECK(about("events.jsonl").size() == 1);
}

TEST_CASE("jsonl_store skips a folder whose name is not a run id, with a warning naming it", "[storage]") {
    closed_store st;
    const std::vector<std::string> unsafe{"has space",           "semi;colon",  ".hidden",
                                          std::string(129, 'a'), "caf\xc3\xa9", "tab\there"};
    for (const auto& name : unsafe) {
        std::filesystem::create_directories(st.dir.path() / "runs" / name);
        std::ofstream(st.dir.path() / "runs" / name / "run.jsonl")
            << fmt::format(R"({{"run":{{"id":"{}","name":"intruder"}},"events":[]}})", name) << "\n";
        std::ofstream(st.dir.path() / "runs" / name / "metrics.jsonl")
            << R"({"key":"loss","steps":[1],"times":[1],"values":[1]})"
            << "\n";
    }
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(s.list_runs({}).total == 1);
    CHECK(s.get_run("exp"));
    CHECK(contents_of(s) == written_up_to(1));
    REQUIRE(logs.warnings.size() == unsafe.size());
    for (const auto& name : unsafe) {
        INFO(name);
        auto quoted = fmt::format("{:?}", name);  // escaped: a folder name cannot forge log lines
        CHECK(std::count_if(logs.warnings.begin(), logs.warnings.end(), [&](const std::string& w) {
                  return w.find("skipping folder " + quoted) != std::string::npos;
              }) == 1);
    }
}

TEST_CASE("a copied run folder is a run of its own, whatever its records say", "[storage]") {
    closed_store st;
    std::filesystem::copy(st.dir.path() / "runs" / "exp", st.dir.path() / "runs" / "exp-copy",
                          std::filesystem::copy_options::recursive);
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(s.list_runs({}).total == 2);
    CHECK(s.query_metrics(series_of("exp", "loss")).points.size() == 1);
    CHECK(s.query_metrics(series_of("exp-copy", "loss")).points.size() == 1);  // not merged into "exp"
    CHECK(s.get_run("exp-copy")->name == "exp");
    auto about = warnings_about(logs, st.file("runs/exp-copy/run.jsonl"));
    REQUIRE(about.size() == 1);
    CHECK(about[0].find(R"(run "exp", not the folder's)") != std::string::npos);
}

TEST_CASE("a checkpoint line cannot take or change another run's checkpoint", "[storage]") {
    closed_store st;
    std::string other_id;
    {
        jsonl_store s{st.options};
        auto in = named_run("other");
        in.id = "other";
        s.create_run(in);
        other_id = s.add_checkpoint(checkpoint_for("other", "/c/other.pt", 1)).id;
    }
    const auto theirs = fmt::format(R"("checkpoint":{{"id":"{}","filepath":"/c/stolen.pt"}},"events":[])", other_id);
    st.append("runs/exp/checkpoints.jsonl", "{\"op\":\"saved\"," + theirs + "}\n{\"op\":\"deleted\"," + theirs +
                                                "}\n{\"op\":\"best\"," + theirs + "}\n");
    st.append("runs/other/checkpoints.jsonl", "{\"op\":\"saved\"," + theirs + "}\n");  // saved twice
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(contents_of(s) == written_up_to(1));
    auto mine = s.list_checkpoints("other");
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].filepath == "/c/other.pt");
    CHECK_FALSE(mine[0].is_best);
    CHECK(s.get_checkpoint(other_id)->run_id == "other");
    auto about = warnings_about(logs, st.file("runs/exp/checkpoints.jsonl"));
    REQUIRE(about.size() == 1);
    CHECK(about[0].find("skipping 3 unreadable records") != std::string::npos);
    CHECK(about[0].find("another run's") != std::string::npos);
    CHECK(warnings_about(logs, st.file("runs/other/checkpoints.jsonl")).size() == 1);
}

TEST_CASE("a run whose run record is unreadable keeps its other records under its folder's name", "[storage]") {
    closed_store st;
    st.replace("runs/exp/run.jsonl", "damaged beyond reading\n");
    std::filesystem::create_directories(st.dir.path() / "runs" / "empty-run");  // a crash before its first line
    std::ofstream(st.dir.path() / "runs" / "empty-run" / "run.jsonl").flush();
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(s.list_runs({}).total == 1);
    auto run = s.get_run("exp");
    REQUIRE(run);
    CHECK(run->name == "exp");
    CHECK(run->status == run_status::interrupted);  // not live, and may be resumed
    CHECK(contents_of(s) == written_up_to(1));
    CHECK(warnings_about(logs, st.file("runs/exp/run.jsonl")).size() == 2);  // the bad line; the run kept without it
}

namespace {
// An object `depth` levels deep: {"a":{"a":{}}} is 3.
std::string nested_object(int depth) {
    std::string text;
    for (int i = 0; i < depth - 1; ++i) text += R"({"a":)";
    text += "{}";
    for (int i = 0; i < depth - 1; ++i) text += "}";
    return text;
}
}  // namespace

TEST_CASE("jsonl_store reads back a config and checkpoint metadata nested as deeply as a request may", "[storage]") {
    closed_store st;
    const auto deep = nested_object(static_cast<int>(detail::max_json_depth) - 1);  // in a body one level deep
    {
        jsonl_store s{st.options};
        run_update u;
        u.config_json = deep;
        s.update_run("exp", u);
        auto c = checkpoint_for("exp", "/c/deep.pt", 2);
        c.metadata_json = deep;
        c.id = "c_deep";
        s.add_checkpoint(c);
    }
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(s.get_run("exp")->config_json == deep);
    CHECK(s.get_checkpoint("c_deep")->metadata_json == deep);
    CHECK(logs.warnings.empty());
}

TEST_CASE("jsonl_store refuses a write it could not read back, and writes nothing of it", "[storage]") {
    closed_store st;
    std::vector<std::uintmax_t> sizes;
    auto file_sizes = [&] {
        std::vector<std::uintmax_t> out;
        for (const auto& f : every_file) out.push_back(std::filesystem::file_size(st.file(f)));
        return out;
    };
    {
        jsonl_store s{st.options};
        const auto before = file_sizes();
        auto refused = [&](auto&& write, std::string_view why) {
            INFO(why);
            try {
                write();
                FAIL("acknowledged");
            } catch (const tmon::error& e) {
                CHECK(e.code() == errc::invalid_argument);
                CHECK(std::string{e.what()}.find(why) != std::string::npos);
            }
        };
        run_update bad_config;
        bad_config.config_json = R"({"lr":)";
        refused([&] { s.update_run("exp", bad_config); }, "would not read back");
        run_update latin1;
        latin1.name = "caf\xe9";  // Latin-1
        refused([&] { s.update_run("exp", latin1); }, "invalid UTF-8");
        refused([&] { s.append_metrics("exp", std::vector{point("lo\xffss", 5, 1.0)}); }, R"(metric key "lo\xffss")");
        auto too_deep = checkpoint_for("exp", "/c/deep.pt", 2);
        too_deep.metadata_json = nested_object(200);
        refused([&] { s.add_checkpoint(too_deep); }, "nested deeper than 128 levels");
        event bad_event;
        bad_event.run_id = "exp";
        bad_event.type = "note";
        bad_event.data_json = "not json";
        refused([&] { s.append_event(bad_event); }, "would not read back");
        CHECK(file_sizes() == before);
        CHECK(contents_of(s) == written_up_to(1));
        CHECK(s.get_run("exp")->name == "exp");
    }
    log_capture logs;
    jsonl_store s{st.options};
    CHECK(contents_of(s) == written_up_to(1));
    CHECK(logs.warnings.empty());
}

TEST_CASE("record_codec's parse_json refuses text nested too deeply or not UTF-8", "[storage]") {
    CHECK(detail::parse_json(R"({"a":[1,{"b":null}]})").IsObject());
    for (std::string bad :
         {std::string(90'000, '[') + std::string(90'000, ']'), std::string("[\"\xff\"]"), std::string("{\"a\":")}) {
        try {
            detail::parse_json(bad);
            FAIL("parsed");
        } catch (const tmon::error& e) {
            CHECK(e.code() == errc::invalid_argument);
        }
    }
}
