// Text that is not UTF-8, given through the C++ API, is refused by every store
// with invalid_argument and changes nothing: what a store keeps is sent back
// as JSON, where one such byte makes the whole reply unreadable to a strict
// client (and one WebSocket message closes every subscriber's connection).
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "storage/store_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

const std::string not_utf8[] = {
    "bad\xff",          // a byte no UTF-8 text holds
    "bad\xc0\xae",      // overlong '.'
    "bad\xed\xa0\x80",  // a surrogate
    "bad\xe2\x82",      // cut short
};

// Runs `write`, which must be refused as invalid_argument naming `what` and UTF-8.
void expect_refused(const std::function<void()>& write, std::string_view what) {
    try {
        write();
        FAIL("text that is not UTF-8 was accepted for " << what);
    } catch (const tmon::error& e) {
        CHECK(e.code() == errc::invalid_argument);
        CHECK_THAT(e.what(), Catch::Contains("UTF-8"));
    }
}

}  // namespace

TEMPLATE_TEST_CASE("a run with a name, tag, note, config or id that is not UTF-8 is refused", "[storage][utf8]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    for (const auto& bad : not_utf8) {
        auto by_name = named_run(bad);
        expect_refused([&] { s->create_run(by_name); }, "a run name");
        auto by_tag = named_run("ok", {"fine", bad});
        expect_refused([&] { s->create_run(by_tag); }, "a tag");
        auto by_notes = named_run("ok");
        by_notes.notes = bad;
        expect_refused([&] { s->create_run(by_notes); }, "notes");
        auto by_config = named_run("ok");
        by_config.config_json = "{\"k\":\"" + bad + "\"}";
        expect_refused([&] { s->create_run(by_config); }, "a config");
        auto by_id = named_run("ok");
        by_id.id = "run_" + bad;
        expect_refused([&] { s->create_run(by_id); }, "a run id");
    }
    CHECK(s->list_runs({}).total == 0);
}

TEMPLATE_TEST_CASE("an update that is not UTF-8 is refused and the run stays as it was", "[storage][utf8]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto in = named_run("resnet", {"sweep"});
    in.notes = "first";
    auto run = s->create_run(in);
    for (const auto& bad : not_utf8) {
        run_update name;
        name.name = bad;
        expect_refused([&] { s->update_run(run.id, name); }, "a run name");
        run_update tags;
        tags.tags = std::vector<std::string>{bad};
        expect_refused([&] { s->update_run(run.id, tags); }, "a tag");
        run_update notes;
        notes.notes = bad;
        expect_refused([&] { s->update_run(run.id, notes); }, "notes");
        run_update config;
        config.config_json = "{\"k\":\"" + bad + "\"}";
        expect_refused([&] { s->update_run(run.id, config); }, "a config");
    }
    auto got = s->get_run(run.id);
    REQUIRE(got);
    CHECK(got->name == "resnet");
    CHECK(got->tags == std::vector<std::string>{"sweep"});
    CHECK(got->notes == "first");
}

TEMPLATE_TEST_CASE("a metric batch with one key that is not UTF-8 is refused whole", "[storage][utf8]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto run = s->create_run(named_run("r"));
    for (const auto& bad : not_utf8) {
        std::vector<metric_point> batch{point("loss", 1, 0.5), point(bad, 1, 0.25), point("acc", 1, 0.9)};
        expect_refused([&] { s->append_metrics(run.id, batch); }, "a metric key");
    }
    CHECK(s->metric_keys(run.id).empty());
    CHECK(s->query_metrics(series_of(run.id, "loss")).points.empty());
}

TEMPLATE_TEST_CASE("checkpoints, events, layers, GPU names and hosts that are not UTF-8 are refused", "[storage][utf8]",
                   TMON_TEST_STORES) {
    fresh_store<TestType> s;
    auto run = s->create_run(named_run("r"));
    auto events_before = s->list_events({.run_id = run.id, .after_id = 0, .limit = 1000}).size();
    for (const auto& bad : not_utf8) {
        auto by_path = checkpoint_for(run.id, "/ckpt/" + bad, 10);
        expect_refused([&] { s->add_checkpoint(by_path); }, "a checkpoint path");
        auto by_metadata = checkpoint_for(run.id, "/ckpt/ok.pt", 10);
        by_metadata.metadata_json = "{\"k\":\"" + bad + "\"}";
        expect_refused([&] { s->add_checkpoint(by_metadata); }, "checkpoint metadata");

        event e;
        e.run_id = run.id;
        e.type = "warning";
        e.message = "loss spiked at " + bad;
        expect_refused([&] { s->append_event(e); }, "an event message");
        e.message = "fine";
        e.type = bad;
        expect_refused([&] { s->append_event(e); }, "an event type");

        layer_snapshot l;
        l.run_id = run.id;
        l.step = 5;
        l.layers.push_back(layer_stat{.name = "fc1"});
        l.layers.push_back(layer_stat{.name = bad});
        expect_refused([&] { s->append_layers(l); }, "a layer name");

        system_sample sys;
        sys.time = 1.7e9;
        sys.gpus.push_back(gpu_sample{.index = 0, .name = "NVIDIA " + bad});
        expect_refused([&] { s->append_system(sys); }, "a GPU name");
        system_sample from_host;
        from_host.time = 1.7e9;
        from_host.run_id = run.id;
        from_host.host = "node-" + bad;
        expect_refused([&] { s->append_system(from_host); }, "a system sample's host");
    }
    CHECK(s->list_checkpoints(run.id).empty());
    CHECK(s->list_events({.run_id = run.id, .after_id = 0, .limit = 1000}).size() == events_before);
    CHECK(s->layer_steps(run.id).empty());
    CHECK(s->system_history({}).empty());
    CHECK(s->system_history({.run_id = run.id}).empty());
}

TEMPLATE_TEST_CASE("text in any script is kept as given, also across a reopen", "[storage][utf8]", TMON_TEST_STORES) {
    fresh_store<TestType> s;
    const std::string name = "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80";  // résumé 日本 🚀
    auto in = named_run(name, {"\xce\xbb"});
    in.notes = "\xe2\x88\x87 loss";
    auto run = s->create_run(in);
    s->append_metrics(run.id, std::vector<metric_point>{point("\xce\xbb/loss", 1, 0.5)});
    auto check = [&] {
        auto got = s->get_run(run.id);
        REQUIRE(got);
        CHECK(got->name == name);
        CHECK(got->tags == std::vector<std::string>{"\xce\xbb"});
        CHECK(got->notes == "\xe2\x88\x87 loss");
        CHECK(s->query_metrics(series_of(run.id, "\xce\xbb/loss")).points.size() == 1);
    };
    check();
    if constexpr (store_traits<TestType>::persistent) {
        s.reopen();
        check();
    }
}
