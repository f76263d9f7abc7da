// Fan-out after a write: the reply goes first, then one serialised update is
// shared by every idle subscriber, in the order the writes were made.
#include <memory>
#include <string>
#include <vector>

#include "server/server_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

// Steps 0..steps-1 of "loss", one acknowledged POST each.
template <class Store>
void post_loss_steps(served<Store>& s, const std::string& id, int steps) {
    for (int i = 0; i < steps; ++i)
        REQUIRE(s.post_metrics(id, fmt::format(R"({{"step":{},"metrics":{{"loss":{}}}}})", i, i)).status == 200);
}

}  // namespace

TEST_CASE("one write reaches many subscribers as the same bytes", "[server][ws]") {
    served<memory_store> s;
    auto id = s.create_run("fan-out");
    std::vector<std::unique_ptr<ws_client>> clients;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(std::make_unique<ws_client>(s.srv.port()));
        REQUIRE(clients.back()->handshake_status() == 101);
        clients.back()->subscribe(id);
    }
    REQUIRE(s.post_metrics(
                 id, R"({"points":[{"step":4,"metrics":{"loss":0.5,"acc":0.75}},{"step":5,"metrics":{"loss":0.25}}]})")
                .status == 200);
    // Fan-out follows the writer's reply, so a run_created may still arrive first.
    auto next_metric_update = [](ws_client& c) {
        for (;;) {
            auto f = c.raw().read_data_frame();
            REQUIRE(f);
            if (f->payload.find(R"("type":"metric_update")") != std::string::npos) return f->payload;
        }
    };
    std::string first;
    for (auto& c : clients) {
        auto payload = next_metric_update(*c);
        if (first.empty()) first = payload;
        CHECK(payload == first);
    }
    rapidjson::Document d;
    d.Parse(first.data(), first.size());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(str(d["type"]) == "metric_update");
    CHECK(d["step"].GetInt64() == 5);
    CHECK(d["points"].Size() == 2);
    CHECK(d["points"][0]["metrics"]["acc"].GetDouble() == 0.75);
}

TEST_CASE("one client's consecutive writes reach a subscriber in the order they were made", "[server][ws]") {
    served<sqlite_store> s;  // four pool threads: each write may run on a different one
    auto id = s.create_run("ordered");
    ws_client ws(s.srv.port());
    ws.subscribe(id);
    const int steps = 300;
    post_loss_steps(s, id, steps);
    std::int64_t last = -1;
    while (last < steps - 1) {
        auto m = ws.next_of("metric_update");
        for (const auto& p : m["points"].GetArray()) {
            REQUIRE(p["step"].GetInt64() == last + 1);
            last = p["step"].GetInt64();
        }
    }
}

TEST_CASE("a subscriber that keeps up gets every write as its own metric_update", "[server][ws]") {
    // Writes land faster than the subscriber's socket drains, but what is queued
    // for it stays small, so nothing waits to be merged: one message per write.
    served<memory_store> s;
    auto id = s.create_run("unmerged");
    ws_client ws(s.srv.port());
    ws.subscribe(id);
    const int steps = 300;
    post_loss_steps(s, id, steps);
    for (int i = 0; i < steps; ++i) {
        auto m = ws.next_of("metric_update");
        REQUIRE(m["points"].Size() == 1);
        CHECK(m["step"].GetInt64() == i);
        CHECK(m["dropped"].GetUint64() == 0);
    }
}
