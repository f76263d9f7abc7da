#pragma once
// What the tests of a real asio_transport share besides the client: the config
// of the transport under test, the routes every test server starts from, and
// waiting for what its io threads do.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "tmon/transport/asio_transport.hpp"
#include "tmon/transport/http/router.hpp"
#include "tmon/transport/transport_concept.hpp"
#include "transport/blocking_client.hpp"

namespace tmon::test {

// 127.0.0.1 on a port the OS picks, two io threads so handlers can overlap.
inline transport_config loopback_config() {
    transport_config c;
    c.port = 0;
    c.threads = 2;
    return c;
}

// A 200 with a JSON body.
inline http::response json(std::string body) {
    http::response r;
    r.body = std::move(body);
    return r;
}

// GET /hello answers {"hello":"world"}; POST /echo answers its request's body.
inline http::router& add_hello_and_echo(http::router& routes) {
    using http::request;
    using http::route_params;
    return routes
        .get("/hello", [](request&, const route_params&, respond_fn respond) { respond(json(R"({"hello":"world"})")); })
        .post("/echo", [](request& req, const route_params&, respond_fn respond) { respond(json(req.body)); });
}

// Starts `transport` serving `routes`; `tweak` may change the handlers first.
inline void serve(asio_transport& transport, http::router& routes, const transport_config& config,
                  const std::function<void(app_handlers&)>& tweak = {}) {
    app_handlers handlers;
    handlers.on_request = std::ref(routes);
    if (tweak) tweak(handlers);
    transport.start(config, std::move(handlers));
}

// The reply to one request; without one the test cannot go on.
inline reply reply_to(blocking_client& c, std::string_view request) {
    auto r = c.request(request);
    REQUIRE(r);
    return std::move(*r);
}

// Polls `done` every 5 ms for up to 10 s. The caller then checks the outcome,
// so a transport that never gets there fails the test instead of hanging it.
template <class Done>
void wait_until(Done done) {
    for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace tmon::test
