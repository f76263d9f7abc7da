// Streamed response bodies (http::body_stream) over a real transport: the
// body is pulled one piece at a time, each only once the last is written.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "tmon/transport/asio_transport.hpp"
#include "tmon/transport/http/router.hpp"
#include "transport/blocking_client.hpp"
#include "transport/transport_fixture.hpp"

using namespace std::chrono_literals;
using tmon::test::blocking_client;
using tmon::test::loopback_config;
using tmon::test::wait_until;

namespace {

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * kib;

// The byte at offset i of every test body: misplaced or lost bytes show.
char pattern_at(std::size_t i) { return static_cast<char>('!' + (i * 31 + i / 65536) % 90); }

// One thread running tasks in order: the worker pool a server reads its store on.
class producer {
public:
    producer() : thread_([this] { run(); }) {}
    ~producer() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    void post(std::function<void()> task) {
        {
            std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        while (true) {
            cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stop_ = false;
    std::thread thread_;
};

enum class failure { none, drop_deliver, throw_in_pull };

// `total` bytes of the pattern in `piece`-byte pieces, each made on the producer thread.
class pattern_stream : public tmon::http::body_stream, public std::enable_shared_from_this<pattern_stream> {
public:
    pattern_stream(producer& p, std::size_t total, std::size_t piece, failure fail = failure::none,
                   std::size_t fail_at = 0)
        : producer_(p), total_(total), piece_(piece), fail_(fail), fail_at_(fail_at) {}

    void pull(deliver_fn deliver) override {
        ++pulls;
        if (fail_ == failure::throw_in_pull && offset_ >= fail_at_) throw std::runtime_error("disk gone");
        producer_.post([self = shared_from_this(), deliver = std::move(deliver)]() mutable {
            if (self->fail_ == failure::drop_deliver && self->offset_ >= self->fail_at_) return;
            if (self->offset_ == self->total_) return deliver(std::nullopt);
            std::size_t n = std::min(self->piece_, self->total_ - self->offset_);
            std::string chunk(n, '\0');
            for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_at(self->offset_ + i);
            self->offset_ += n;
            self->produced += n;
            deliver(std::move(chunk));
        });
    }

    std::atomic<std::size_t> produced{0};
    std::atomic<int> pulls{0};

private:
    producer& producer_;
    std::size_t total_, piece_;
    failure fail_;
    std::size_t fail_at_;
    std::size_t offset_ = 0;  // producer thread only (pull() reads it for throw_in_pull, before posting)
};

// GET /stream answers with the stream the test set up; /hello is plain.
struct stream_server {
    producer prod;
    std::mutex mutex;
    std::shared_ptr<pattern_stream> next;  // what the next GET /stream gets
    std::weak_ptr<pattern_stream> last;
    tmon::http::router routes;
    tmon::asio_transport transport;

    explicit stream_server(tmon::transport_config config = loopback_config()) {
        using tmon::http::request;
        using tmon::http::route_params;
        routes
            .get("/stream",
                 [this](request&, const route_params&, tmon::respond_fn respond) {
                     tmon::http::response r;
                     r.content_type = "application/x-ndjson";
                     std::lock_guard lock(mutex);
                     last = next;
                     r.stream = std::move(next);
                     respond(std::move(r));
                 })
            .get("/hello", [](request&, const route_params&, tmon::respond_fn respond) {
                tmon::http::response r;
                r.body = R"({"hello":"world"})";
                respond(std::move(r));
            });
        tmon::app_handlers h;
        h.on_request = std::ref(routes);
        transport.start(config, std::move(h));
    }

    std::shared_ptr<pattern_stream> prepare(std::size_t total, std::size_t piece, failure fail = failure::none,
                                            std::size_t fail_at = 0) {
        auto s = std::make_shared<pattern_stream>(prod, total, piece, fail, fail_at);
        std::lock_guard lock(mutex);
        next = s;
        return s;
    }
};

constexpr std::string_view get_stream = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr std::string_view get_hello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

// Reads a chunked body, checking every byte against the pattern.
struct body_check {
    std::size_t received = 0;
    bool pattern_ok = true;
    void operator()(std::string_view data) {
        for (std::size_t i = 0; i < data.size() && pattern_ok; ++i) pattern_ok = data[i] == pattern_at(received + i);
        received += data.size();
    }
};

}  // namespace

TEST_CASE("100 MB streamed to a slow reader arrives whole while the server holds about one piece", "[transport]") {
    constexpr std::size_t total = 100 * 1000 * 1000;
    stream_server srv;
    auto stream = srv.prepare(total, 64 * kib);
    // A fixed receive buffer bounds what the kernel holds on the client's side.
    blocking_client c(srv.transport.port(), 256 * kib);
    REQUIRE(c.send(get_stream));
    auto head = c.read_response();
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("Transfer-Encoding") == "chunked");
    CHECK(head->header("Content-Length").empty());
    CHECK(head->header("Content-Type") == "application/x-ndjson");

    // Not reading yet: a server that pulled eagerly would make the whole body now.
    std::this_thread::sleep_for(300ms);
    std::size_t ahead = stream->produced.load();
    body_check check;
    std::size_t most_ahead = ahead;
    bool complete = c.read_chunked_body([&](std::string_view data) {
        check(data);
        most_ahead = std::max(most_ahead, stream->produced.load() - check.received);
        if (check.received % (8 * mib) < data.size()) std::this_thread::sleep_for(5ms);  // and reads slowly
    });
    INFO("produced before the client read: " << ahead << ", most produced ahead of the client: " << most_ahead);
    CHECK(complete);
    CHECK(check.received == total);
    CHECK(check.pattern_ok);
    // The server's socket buffer (at most 4 MiB here), the client's, one piece being written, one made.
    CHECK(ahead <= 8 * mib);
    CHECK(most_ahead <= 8 * mib);
    // The connection goes on after the stream.
    auto next = c.request(get_hello);
    REQUIRE(next);
    CHECK(next->status == 200);
    stream.reset();
    wait_until([&] { return srv.last.expired(); });
    CHECK(srv.last.expired());  // the connection let go of the finished stream
}

TEST_CASE("HEAD of a streamed response sends the head only and never pulls", "[transport]") {
    stream_server srv;
    auto stream = srv.prepare(1 * mib, 64 * kib);
    blocking_client c(srv.transport.port());
    REQUIRE(c.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto head = c.read_response(true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("Transfer-Encoding") == "chunked");
    auto next = c.request(get_hello);  // had a body been sent, it would be read here
    REQUIRE(next);
    CHECK(next->status == 200);
    CHECK(next->body == R"({"hello":"world"})");
    CHECK(stream->pulls.load() == 0);
}

TEST_CASE("a stream that fails midway closes the connection without the last chunk", "[transport]") {
    auto fail = GENERATE(failure::drop_deliver, failure::throw_in_pull);
    stream_server srv;
    auto stream = srv.prepare(4 * mib, 64 * kib, fail, 1 * mib);
    blocking_client c(srv.transport.port());
    REQUIRE(c.send(get_stream));
    auto head = c.read_response();
    REQUIRE(head);
    CHECK(head->status == 200);
    body_check check;
    CHECK_FALSE(c.read_chunked_body(std::ref(check)));  // truncated: no final chunk
    CHECK(check.received == 1 * mib);
    CHECK(check.pattern_ok);
    CHECK(c.wait_closed());
}

TEST_CASE("an HTTP/1.0 client gets a streamed body unchunked, ended by the close", "[transport]") {
    stream_server srv;
    srv.prepare(300 * kib, 64 * kib);
    blocking_client c(srv.transport.port());
    REQUIRE(c.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto head = c.read_response(true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("Transfer-Encoding").empty());
    CHECK(head->header("Connection") == "close");
    auto body = c.read_until_closed();
    body_check check;
    check(body);
    CHECK(check.received == 300 * kib);
    CHECK(check.pattern_ok);
}

TEST_CASE("a request pipelined behind a streamed response is answered after the stream, in order", "[transport]") {
    stream_server srv;
    srv.prepare(1 * mib, 64 * kib);
    blocking_client c(srv.transport.port());
    REQUIRE(c.send(std::string{get_stream} + std::string{get_hello}));
    auto head = c.read_response();
    REQUIRE(head);
    body_check check;
    CHECK(c.read_chunked_body(std::ref(check)));
    CHECK(check.received == 1 * mib);
    auto hello = c.read_response();
    REQUIRE(hello);
    CHECK(hello->body == R"({"hello":"world"})");
}

TEST_CASE("a streaming client that stops reading is closed by the send timeout and the stream let go", "[transport]") {
    auto config = loopback_config();
    config.limits.send_timeout = 300ms;
    stream_server srv(config);
    auto stream = srv.prepare(100 * mib, 64 * kib);
    std::weak_ptr<pattern_stream> weak = stream;
    stream.reset();
    blocking_client c(srv.transport.port(), 64 * kib);
    REQUIRE(c.send(get_stream));
    wait_until([&] { return weak.expired(); });
    CHECK(weak.expired());  // closed: no more pulls, the producer's state freed
    CHECK(srv.transport.open_connections() == 0);
}

TEST_CASE("a client leaving mid-stream stops the pulls", "[transport]") {
    stream_server srv;
    auto stream = srv.prepare(100 * mib, 64 * kib);
    std::weak_ptr<pattern_stream> weak = stream;
    {
        blocking_client c(srv.transport.port());
        REQUIRE(c.send(get_stream));
        REQUIRE(c.read_response());
        wait_until([&] { return stream->pulls.load() > 2; });
    }
    stream.reset();
    wait_until([&] { return weak.expired(); });
    CHECK(weak.expired());
}
