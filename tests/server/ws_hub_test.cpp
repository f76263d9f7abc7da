// ws_hub's merge policy on its own: when an update goes straight to a peer's
// outbound queue and when it waits to be merged. The transport side (sockets,
// drains) is covered by ws_test.cpp and fanout_test.cpp; here the peer is a
// recorder whose queued byte count the test sets.
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "tmon/server/detail/ws_hub.hpp"

using namespace tmon;

namespace {

struct recording_peer final : ws_peer {
    std::size_t queued = 0;  // bytes the "socket" has not taken yet
    std::vector<std::string> sent;

    std::uint64_t id() const noexcept override { return 7; }
    bool send_text(std::string message) override {
        sent.push_back(std::move(message));
        return true;
    }
    std::size_t pending_bytes() const noexcept override { return queued; }
    void close(std::uint16_t, std::string_view) override {}
};

detail::live_event metrics_at(step_t step) {
    detail::live_event e;
    e.type = detail::live_event::kind::metrics;
    e.run_id = "r1";
    e.points = {
        metric_point{"loss", step, 1700000000.0 + static_cast<double>(step), 1.0 / static_cast<double>(step + 1)}};
    return e;
}

std::vector<std::int64_t> steps_in(const std::string& metric_update) {
    rapidjson::Document d;
    d.Parse(metric_update.c_str());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(std::string(d["type"].GetString()) == "metric_update");
    std::vector<std::int64_t> steps;
    for (const auto& p : d["points"].GetArray()) steps.push_back(p["step"].GetInt64());
    return steps;
}

struct subscribed_peer {
    detail::ws_hub hub;
    std::shared_ptr<recording_peer> peer = std::make_shared<recording_peer>();

    explicit subscribed_peer(detail::ws_hub::limits l = {}) : hub(l) {
        hub.on_open(peer);
        hub.on_message(peer, R"({"type":"subscribe","run_id":"r1"})");
        REQUIRE(peer->sent.size() == 1);  // "subscribed"
        peer->sent.clear();
    }
};

}  // namespace

TEST_CASE("detail::ws_hub: a peer with a little queued gets each update at once, unmerged", "[server][ws]") {
    subscribed_peer s;
    s.peer->queued = 10'000;  // busy, but far from lagging
    for (step_t i = 0; i < 3; ++i) s.hub.deliver(metrics_at(i));
    REQUIRE(s.peer->sent.size() == 3);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(steps_in(s.peer->sent[i]) == std::vector<std::int64_t>{static_cast<std::int64_t>(i)});
}

TEST_CASE("detail::ws_hub: a lagging peer's updates merge into one message, sent when it drains", "[server][ws]") {
    subscribed_peer s(detail::ws_hub::limits{.lag_bytes = 4096});
    s.peer->queued = 4096;
    for (step_t i = 0; i < 3; ++i) s.hub.deliver(metrics_at(i));
    CHECK(s.peer->sent.empty());

    s.peer->queued = 0;
    s.hub.on_drain(s.peer);
    REQUIRE(s.peer->sent.size() == 1);
    CHECK(steps_in(s.peer->sent[0]) == std::vector<std::int64_t>{0, 1, 2});

    // Drained and caught up: the next update goes out on its own again.
    s.hub.deliver(metrics_at(3));
    REQUIRE(s.peer->sent.size() == 2);
    CHECK(steps_in(s.peer->sent[1]) == std::vector<std::int64_t>{3});
}

TEST_CASE("detail::ws_hub: once a backlog exists, later updates join it even if the queue shrank", "[server][ws]") {
    // Order matters more than speed: sending step 2 directly would overtake steps 0-1.
    subscribed_peer s(detail::ws_hub::limits{.lag_bytes = 4096});
    s.peer->queued = 5000;
    s.hub.deliver(metrics_at(0));
    s.hub.deliver(metrics_at(1));
    s.peer->queued = 100;
    s.hub.deliver(metrics_at(2));
    CHECK(s.peer->sent.empty());
    s.hub.on_drain(s.peer);
    REQUIRE(s.peer->sent.size() == 1);
    CHECK(steps_in(s.peer->sent[0]) == std::vector<std::int64_t>{0, 1, 2});
}
