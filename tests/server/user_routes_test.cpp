// What an embedding program adds to tmon::server: its own REST routes
// (srv.get/post/put/del), held to the API's rules, and srv.wait(), which
// returns on SIGINT/SIGTERM or stop().
#include <atomic>
#include <csignal>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "server/server_fixture.hpp"

using namespace tmon;
using namespace tmon::test;

namespace {

http::response echo(const api_request& r) {
    return json_response(fmt::format(R"({{"name":"{}","n":{},"method":"{}","body":{}}})", r.param("name"),
                                     r.int_query<int>("n").value_or(-1), r.http.method,
                                     r.body().empty() ? "null" : r.body()));
}

}  // namespace

TEST_CASE("a route the program adds answers with its captures, query and body", "[server][user_routes]") {
    served<memory_store> s;
    s.srv.get("/api/ext/echo/{name}", echo, accepts{"n"}).post("/api/ext/echo/{name}", echo, accepts{"n"});
    auto got = s.api.get("/api/ext/echo/alice?n=3");
    REQUIRE(got.status == 200);
    CHECK(str(got["name"]) == "alice");
    CHECK(got["n"].GetInt() == 3);
    CHECK(got["body"].IsNull());
    CHECK(s.api.get("/api/ext/echo/bob")["n"].GetInt() == -1);
    auto posted = s.api.post("/api/ext/echo/carol", R"({"x":[1,2]})");
    REQUIRE(posted.status == 200);
    CHECK(str(posted["method"]) == "POST");
    CHECK(posted["body"]["x"].Size() == 2);
    // The other methods on a path of the program's: 405 naming those it has.
    auto wrong = s.api.del("/api/ext/echo/erin");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow") == "GET, HEAD, POST");
    CHECK(s.api.get("/api/ext/nothing").status == 404);
    // Outside /api too, and a path that is not the dashboard's stays a JSON 404.
    s.srv.get("/status", [](const api_request&) { return json_response(R"({"ok":true})"); });
    CHECK(s.api.get("/status")["ok"].GetBool());
    CHECK(s.api.get("/statuses").error_kind() == "not_found");
}

TEST_CASE("a program's route runs on the work pool, not on an io thread", "[server][user_routes]") {
    server_config c;
    c.threads = 1;
    served<memory_store> s(c);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> entered{0};
    s.srv.get("/api/ext/slow", [&](const api_request&) {
        ++entered;
        released.wait();
        return json_response("{}");
    });
    auto slow = std::async(std::launch::async, [&] { return api_client(s.srv.port()).get("/api/ext/slow").status; });
    while (entered.load() == 0) std::this_thread::yield();
    // The one io thread is free while the handler blocks.
    CHECK(s.api.get("/health").status == 200);
    release.set_value();
    CHECK(slow.get() == 200);
}

TEST_CASE("what a program's route throws leaves as the API's JSON errors", "[server][user_routes]") {
    served<memory_store> s;
    s.srv.get("/api/ext/fail/{how}", [](const api_request& r) -> http::response {
        auto how = r.param("how");
        if (how == "http") throw http_error(409, "the queue is frozen");
        if (how == "malformed") throw malformed("bad input");
        if (how == "tmon") throw error(errc::not_found, "no such job");
        if (how == "std") throw std::runtime_error("disk on fire");
        if (how == "query") (void)r.query.get("undeclared");  // a route bug, not the client's
        return json_response("{}");
    });
    auto conflict = s.api.get("/api/ext/fail/http");
    CHECK(conflict.status == 409);
    CHECK(conflict.error_kind() == "conflict");
    CHECK(str(conflict["detail"]) == "the queue is frozen");
    CHECK(s.api.get("/api/ext/fail/malformed").error_kind() == "bad_request");
    auto missing = s.api.get("/api/ext/fail/tmon");
    CHECK(missing.status == 404);
    CHECK(str(missing["detail"]) == "no such job");
    auto internal = s.api.get("/api/ext/fail/std");
    CHECK(internal.status == 500);
    CHECK(internal.error_kind() == "internal");
    CHECK(str(internal["detail"]).find("disk on fire") != std::string::npos);
    CHECK(s.api.get("/api/ext/fail/query").status == 500);
    CHECK(s.api.get("/api/ext/fail/none").status == 200);
}

TEST_CASE("a program's route refuses query parameters it does not name", "[server][user_routes]") {
    served<memory_store> s;
    s.srv.get(
        "/api/ext/jobs",
        [](const api_request& r) {
            return json_response(fmt::format(R"({{"limit":{}}})", r.int_query<int>("limit", 1, 100).value_or(10)));
        },
        accepts{"limit"});
    s.srv.get("/api/ext/plain", [](const api_request&) { return json_response("{}"); });
    CHECK(s.api.get("/api/ext/jobs?limit=5")["limit"].GetInt() == 5);
    auto typo = s.api.get("/api/ext/jobs?limt=5");
    CHECK(typo.status == 400);
    CHECK(str(typo["detail"]).find("limt") != std::string::npos);
    CHECK(s.api.get("/api/ext/jobs?limit=5&limit=6").status == 400);
    CHECK(s.api.get("/api/ext/jobs?limit=500").status == 400);
    CHECK(s.api.get("/api/ext/plain?x=1").status == 400);
    CHECK(s.api.get("/api/ext/plain").status == 200);
}

TEST_CASE("a program's route needs the token and passes the Host and Origin checks", "[server][user_routes][auth]") {
    server_config c;
    c.token = "s3cret";
    served<memory_store> s(c);
    s.srv.get("/api/ext/secret", [](const api_request&) { return json_response(R"({"v":1})"); });
    s.srv.post("/hooks/{name}", [](const api_request&) { return json_response("{}"); });
    api_client anon(s.srv.port());
    CHECK(anon.get("/api/ext/secret").status == 401);
    CHECK(anon.get("/api/ext/secret").error_kind() == "unauthorized");
    CHECK(anon.get("/api/ext/secret?token=wrong").status == 401);
    CHECK(anon.get("/api/ext/secret?token=s3cret").status == 200);
    CHECK(anon.post("/hooks/ci", "{}").status == 401);  // outside /api too
    CHECK(s.api.get("/api/ext/secret")["v"].GetInt() == 1);
    CHECK(s.api.post("/hooks/ci", "{}").status == 200);
    CHECK(s.api.get("/api/ext/secret", "Host: rebound.example\r\n").status == 421);
    CHECK(s.api.post("/hooks/ci", "{}", "Origin: http://evil.example\r\n").status == 403);
}

TEST_CASE("a program cannot take a path tmon serves, nor add one route twice", "[server][user_routes]") {
    served<memory_store> s;
    auto ok = [](const api_request&) { return json_response("{}"); };
    CHECK_THROWS_AS(s.srv.get("/api/runs", ok), std::invalid_argument);
    CHECK_THROWS_AS(s.srv.post("/api/runs/{id}/metrics", ok), std::invalid_argument);
    CHECK_THROWS_AS(s.srv.del("/api/runs", ok), std::invalid_argument);  // tmon's path, another method
    CHECK_THROWS_AS(s.srv.get("/health", ok), std::invalid_argument);
    CHECK_THROWS_AS(s.srv.get("/", ok), std::invalid_argument);
    CHECK_THROWS_AS(s.srv.get("/ws", ok), std::invalid_argument);
    CHECK_THROWS_AS(s.srv.get("relative", ok), std::invalid_argument);
    CHECK_THROWS_AS(s.srv.get("/api/ext/x", user_handler{}), std::invalid_argument);
    s.srv.get("/api/ext/x", ok);
    CHECK_THROWS_AS(s.srv.get("/api/ext/x", ok), std::invalid_argument);
    // A capture that would also match tmon's literal paths: tmon's answer wins.
    s.srv.get("/api/{anything}", [](const api_request&) { return json_response(R"({"mine":true})"); });
    CHECK(s.api.get("/api/runs")["runs"].IsArray());
    CHECK(s.api.get("/api/other")["mine"].GetBool());
}

namespace {

std::atomic<int> own_handler_calls{0};
void own_handler(int) { ++own_handler_calls; }

// True once SIGTERM is no longer `h`: wait() has put its own handler in place.
bool handler_replaced(void (*h)(int)) {
    struct sigaction now {};
    sigaction(SIGTERM, nullptr, &now);
    return now.sa_handler != h;
}

struct own_sigterm {
    struct sigaction before {};
    own_sigterm() {
        struct sigaction sa {};
        sa.sa_handler = &own_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, &before);
    }
    ~own_sigterm() { sigaction(SIGTERM, &before, nullptr); }
};

}  // namespace

TEST_CASE("wait() returns on SIGTERM and gives the program its own handler back", "[server][user_routes][signals]") {
    own_sigterm mine;  // were wait() not to take it, the signal would land here, not kill the tests
    served<memory_store> s;
    own_handler_calls = 0;
    std::thread raiser([] {
        while (!handler_replaced(&own_handler)) std::this_thread::yield();
        kill(getpid(), SIGTERM);
    });
    int sig = s.srv.wait();
    raiser.join();
    CHECK(sig == SIGTERM);
    CHECK(own_handler_calls == 0);
    CHECK_FALSE(handler_replaced(&own_handler));
    CHECK(s.api.get("/health").status == 200);  // wait() does not stop the server: the program does
}

TEST_CASE("wait() takes SIGINT even where the program blocked it in every thread", "[server][user_routes][signals]") {
    // What tmon-server did before wait(): block, then start the server (its threads inherit the mask).
    sigset_t intr, before;
    sigemptyset(&intr);
    sigaddset(&intr, SIGINT);
    pthread_sigmask(SIG_BLOCK, &intr, &before);
    int sig = 0;
    sigset_t left;
    {
        served<memory_store> s;
        // Pending until wait() unblocks it on its own thread, the only one that ever does.
        std::thread raiser([] { kill(getpid(), SIGINT); });
        raiser.join();
        sig = s.srv.wait();
        pthread_sigmask(SIG_SETMASK, nullptr, &left);
    }
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    CHECK(sig == SIGINT);
    CHECK(sigismember(&left, SIGINT) == 1);  // wait() put back the mask it found
}

TEST_CASE("wait() returns 0 once stop() has run on another thread, and at once after it",
          "[server][user_routes][signals]") {
    served<memory_store> s;
    struct sigaction found {};
    sigaction(SIGTERM, nullptr, &found);
    std::thread stopper([&] {
        while (!handler_replaced(found.sa_handler)) std::this_thread::yield();  // waiting
        s.srv.stop();
    });
    CHECK(s.srv.wait() == 0);
    stopper.join();
    CHECK(s.srv.wait() == 0);
    CHECK_THROWS(s.api.get("/health"));  // stopped: nothing listens
}
