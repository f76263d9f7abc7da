#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tmon/transport/asio_transport.hpp"
#include "tmon/transport/http/errors.hpp"
#include "transport/blocking_client.hpp"
#include "transport/log_capture.hpp"
#include "transport/transport_fixture.hpp"

using namespace std::chrono_literals;
using tmon::test::blocking_client;
using tmon::test::loopback_config;
using tmon::test::wait_until;
using tmon::ws::opcode;

namespace {

// An echo app on a real transport, counting the callbacks it sees per peer.
struct ws_server {
    std::mutex mutex;
    std::map<std::uint64_t, int> closes;  // peer id -> on_ws_close calls
    std::vector<tmon::ws_peer_ptr> peers;
    std::atomic<int> drains{0};
    tmon::asio_transport transport;

    explicit ws_server(tmon::transport_config config = loopback_config()) {
        tmon::app_handlers h;
        h.on_request = [](tmon::http::request&&, tmon::respond_fn respond) {
            respond(tmon::http::error_response(404, "plain HTTP is not served here"));
        };
        h.on_ws_upgrade = [](const tmon::http::request& req) -> std::optional<tmon::http::response> {
            if (req.header_value("Authorization") == "Bearer wrong")
                return tmon::http::error_response(401, "bad token");
            return std::nullopt;
        };
        h.on_ws_open = [this](const tmon::ws_peer_ptr& p) {
            std::lock_guard lock(mutex);
            peers.push_back(p);
        };
        h.on_ws_message = [](const tmon::ws_peer_ptr& p, std::string_view text) {
            if (text == "close-me") p->close(4000, "asked to");
            else if (text == "flood")  // many sends from the io thread, before any write can run
                for (int i = 0; i < 1000; ++i) p->send_text(std::string(16 * 1024, 'f'));
            else p->send_text("echo:" + std::string{text});
        };
        h.on_ws_drain = [this](const tmon::ws_peer_ptr&) { ++drains; };
        h.on_ws_close = [this](const tmon::ws_peer_ptr& p) {
            std::lock_guard lock(mutex);
            ++closes[p->id()];
        };
        transport.start(config, std::move(h));
    }

    std::size_t open_count() {
        std::lock_guard lock(mutex);
        return peers.size();
    }
    tmon::ws_peer_ptr peer(std::size_t i) {
        wait_until([&] { return open_count() > i; });
        std::lock_guard lock(mutex);
        REQUIRE(peers.size() > i);
        return peers[i];
    }
    // Waits for the close callback; the count must then be exactly one.
    int closes_of(std::uint64_t id) {
        wait_until([&] {
            std::lock_guard lock(mutex);
            return closes.count(id) > 0;
        });
        std::this_thread::sleep_for(20ms);  // room for a wrong second call to show up
        std::lock_guard lock(mutex);
        return closes.count(id) ? closes[id] : 0;
    }
};

blocking_client connect_ws(ws_server& srv) { return blocking_client(srv.transport.port()); }

// A client whose WebSocket handshake succeeded.
blocking_client open_ws(ws_server& srv) {
    auto c = connect_ws(srv);
    auto r = c.ws_handshake();
    REQUIRE(r);
    REQUIRE(r->status == 101);
    return c;
}

// What a client cut off for reading too slowly finds once it reads: the text
// frames that went out before the cut, then this frame (a close, if all is well).
std::optional<tmon::test::ws_frame> frame_after_backlog(blocking_client& c) {
    std::optional<tmon::test::ws_frame> f;
    do {
        f = c.read_frame();
    } while (f && f->op == opcode::text);
    return f;
}

}  // namespace

TEST_CASE("the WebSocket handshake answers with the RFC 6455 accept key and echoes", "[transport]") {
    ws_server srv;
    auto c = connect_ws(srv);
    auto r = c.ws_handshake();
    REQUIRE(r);
    CHECK(r->status == 101);
    CHECK(r->header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    REQUIRE(c.send_frame(opcode::text, "hello"));
    auto f = c.read_data_frame();
    REQUIRE(f);
    CHECK(f->op == opcode::text);
    CHECK(f->payload == "echo:hello");
}

TEST_CASE("a frame sent right behind the handshake is not lost", "[transport]") {
    ws_server srv;
    auto c = connect_ws(srv);
    std::string first = tmon::ws::encode_frame(opcode::text, "early", true, tmon::ws::mask_key{1, 2, 3, 4});
    REQUIRE(
        c.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
               first));
    REQUIRE(c.read_response(true)->status == 101);
    CHECK(c.read_data_frame()->payload == "echo:early");
}

TEST_CASE("an upgrade is refused with 426 for a wrong version and by the application's hook", "[transport]") {
    ws_server srv;
    {
        auto c = connect_ws(srv);
        auto r = c.request(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
        REQUIRE(r);
        CHECK(r->status == 426);
        CHECK(r->header("Sec-WebSocket-Version") == "13");
    }
    {
        auto c = connect_ws(srv);
        auto r = c.ws_handshake("/ws", "Authorization: Bearer wrong\r\n");
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(r->body.find("bad token") != std::string::npos);
    }
    CHECK(srv.open_count() == 0);
}

TEST_CASE("a fragmented message with a ping in the middle is reassembled, and the ping answered first", "[transport]") {
    ws_server srv;
    auto c = open_ws(srv);
    REQUIRE(c.send_frame(opcode::text, "frag", false));
    REQUIRE(c.send_frame(opcode::ping, "are you there"));
    REQUIRE(c.send_frame(opcode::continuation, "men", false));
    REQUIRE(c.send_frame(opcode::continuation, "ted"));
    auto pong = c.read_data_frame();
    REQUIRE(pong);
    CHECK(pong->op == opcode::pong);
    CHECK(pong->payload == "are you there");
    auto msg = c.read_data_frame();
    REQUIRE(msg);
    CHECK(msg->payload == "echo:fragmented");
}

TEST_CASE("a client's close is echoed with its code, TCP is closed and on_ws_close runs once", "[transport]") {
    ws_server srv;
    auto c = open_ws(srv);
    auto peer = srv.peer(0);
    REQUIRE(c.send_frame(opcode::close, tmon::ws::close_payload(1000, "done")));
    auto f = c.read_data_frame();
    REQUIRE(f);
    CHECK(f->op == opcode::close);
    CHECK(f->close_code() == 1000);
    CHECK(c.wait_closed());
    CHECK(srv.closes_of(peer->id()) == 1);
    CHECK_FALSE(peer->send_text("too late"));
}

TEST_CASE("the server closes a peer on the application's request", "[transport]") {
    ws_server srv;
    auto c = open_ws(srv);
    REQUIRE(c.send_frame(opcode::text, "close-me"));
    auto f = c.read_data_frame();
    REQUIRE(f);
    CHECK(f->op == opcode::close);
    CHECK(f->close_code() == 4000);
    CHECK(f->payload.substr(2) == "asked to");
    REQUIRE(c.send_frame(opcode::close, f->payload.substr(0, 2)));
    CHECK(c.wait_closed());
    CHECK(srv.closes_of(srv.peer(0)->id()) == 1);
}

TEST_CASE("protocol errors close the connection with the RFC 6455 code", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_max_message_bytes = 1024;
    ws_server srv(config);
    struct bad_case {
        const char* what;
        opcode op;
        std::string payload;
        bool masked;
        std::uint16_t code;
    };
    for (const auto& bad : {bad_case{"unmasked", opcode::text, "hi", false, 1002},
                            bad_case{"bad utf-8", opcode::text, "\xc3\x28", true, 1007},
                            bad_case{"oversize", opcode::text, std::string(1025, 'x'), true, 1009},
                            bad_case{"orphan continuation", opcode::continuation, "x", true, 1002},
                            bad_case{"binary", opcode::binary, "\x01", true, 1003}}) {
        INFO(bad.what);
        auto c = open_ws(srv);
        REQUIRE(c.send_frame(bad.op, bad.payload, true, bad.masked));
        auto f = c.read_data_frame();
        REQUIRE(f);
        CHECK(f->op == opcode::close);
        CHECK(f->close_code() == bad.code);
        CHECK(c.wait_closed());
    }
    for (std::size_t i = 0; i < 5; ++i) CHECK(srv.closes_of(srv.peer(i)->id()) == 1);
}

TEST_CASE("a peer that streams on after the server began to close is dropped after discard_max_bytes", "[transport]") {
    ws_server srv;
    auto c = open_ws(srv);
    REQUIRE(c.send_frame(opcode::binary, "\x01", true, true));  // refused: the server closes with 1003
    auto f = c.read_data_frame();
    REQUIRE(f);
    CHECK(f->close_code() == 1003);
    // It never answers the close and never stops sending; without the cap the
    // server would read it at loopback speed for the whole close_grace.
    const std::string junk(1u << 20, 'j');
    std::size_t sent = 0;
    while (sent < (std::size_t{4} << 30) && c.send(junk)) sent += junk.size();
    INFO("bytes sent before the server dropped the connection: " << sent);
    constexpr std::size_t socket_buffers = 64u << 20;
    CHECK(sent < tmon::detail::ws_session::discard_max_bytes + socket_buffers);
}

TEST_CASE("a reader that never reads is closed with 1008 while another client keeps receiving", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_max_outbound_bytes = 256 * 1024;
    ws_server srv(config);
    auto slow = open_ws(srv);
    auto fast = open_ws(srv);
    auto slow_peer = srv.peer(0);
    auto fast_peer = srv.peer(1);

    std::string chunk(16 * 1024, 'z');
    bool refused = false;
    for (int i = 0; i < 100000 && !refused; ++i) {
        refused = !slow_peer->send_text(chunk);
        if (i % 64 == 0) {
            REQUIRE(fast_peer->send_text("tick"));
            auto f = fast.read_data_frame();
            REQUIRE(f);
            CHECK(f->payload == "tick");
        }
    }
    CHECK(refused);
    CHECK(fast_peer->send_text("still here"));
    CHECK(fast.read_data_frame()->payload == "still here");

    // Reading at last, the slow client finds its data cut short by a 1008 close.
    auto f = frame_after_backlog(slow);
    REQUIRE(f);
    CHECK(f->op == opcode::close);
    CHECK(f->close_code() == 1008);
    REQUIRE(slow.send_frame(opcode::close, f->payload.substr(0, 2)));
    CHECK(slow.wait_closed());
    CHECK(srv.closes_of(slow_peer->id()) == 1);
}

TEST_CASE("pending_bytes reports the queue and on_ws_drain fires once it empties", "[transport]") {
    ws_server srv;
    auto c = open_ws(srv);
    auto peer = srv.peer(0);
    CHECK(peer->pending_bytes() == 0);
    REQUIRE(peer->send_text(std::string(1000, 'q')));
    auto f = c.read_data_frame();
    REQUIRE(f);
    CHECK(f->payload.size() == 1000);
    wait_until([&] { return srv.drains.load() > 0; });
    CHECK(srv.drains.load() >= 1);
    CHECK(peer->pending_bytes() == 0);
}

TEST_CASE("an idle WebSocket is pinged", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_ping_interval = 100ms;
    ws_server srv(config);
    auto c = open_ws(srv);
    auto f = c.read_frame();
    REQUIRE(f);
    CHECK(f->op == opcode::ping);
    REQUIRE(c.send_frame(opcode::pong, f->payload));
    REQUIRE(c.send_frame(opcode::text, "alive"));
    CHECK(c.read_data_frame()->payload == "echo:alive");
}

TEST_CASE("stopping the transport closes open WebSockets and calls on_ws_close once each", "[transport]") {
    auto srv = std::make_unique<ws_server>();
    auto a = open_ws(*srv);
    auto b = open_ws(*srv);
    auto pa = srv->peer(0);
    auto pb = srv->peer(1);
    srv->transport.stop();
    CHECK(a.wait_closed());
    CHECK(b.wait_closed());
    CHECK(srv->closes_of(pa->id()) == 1);
    CHECK(srv->closes_of(pb->id()) == 1);
    CHECK_FALSE(pa->send_text("after stop"));
}

TEST_CASE("one shared message reaches many peers byte for byte, interleaved with owned messages", "[transport]") {
    ws_server srv;
    const int peers = 12;
    std::vector<std::unique_ptr<blocking_client>> clients;
    for (int i = 0; i < peers; ++i) {
        clients.push_back(std::make_unique<blocking_client>(srv.transport.port()));
        REQUIRE(clients.back()->ws_handshake()->status == 101);
    }
    for (int i = 0; i < peers; ++i) srv.peer(static_cast<std::size_t>(i));
    // Large enough for the 64-bit length header, and unlike any other message.
    std::string text(70'000, ' ');
    for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
    auto shared = std::make_shared<const std::string>(text);
    auto small = std::make_shared<const std::string>("short and shared");
    for (int i = 0; i < peers; ++i) {
        auto p = srv.peer(static_cast<std::size_t>(i));
        REQUIRE(p->send_text(shared));
        REQUIRE(p->send_text(std::string("owned")));
        REQUIRE(p->send_text(small));
    }
    for (auto& c : clients) {
        auto a = c->read_data_frame();
        REQUIRE(a);
        CHECK(a->op == opcode::text);
        CHECK(a->payload == text);
        CHECK(c->read_data_frame()->payload == "owned");
        CHECK(c->read_data_frame()->payload == "short and shared");
    }
    CHECK(*shared == text);  // the transport never writes into the shared bytes
    for (int i = 0; i < peers; ++i) {
        auto p = srv.peer(static_cast<std::size_t>(i));
        wait_until([&] { return p->pending_bytes() == 0; });
        CHECK(p->pending_bytes() == 0);
    }
}

TEST_CASE("a shared message counts toward the slow-reader limit like an owned one", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_max_outbound_bytes = 256 * 1024;
    ws_server srv(config);
    auto slow = open_ws(srv);
    auto peer = srv.peer(0);
    auto chunk = std::make_shared<const std::string>(16 * 1024, 'z');
    bool refused = false;
    for (int i = 0; i < 100000 && !refused; ++i) refused = !peer->send_text(chunk);
    CHECK(refused);
    auto f = frame_after_backlog(slow);
    REQUIRE(f);
    CHECK(f->op == opcode::close);
    CHECK(f->close_code() == 1008);
    CHECK_FALSE(peer->send_text(chunk));
    CHECK_FALSE(peer->send_text(std::shared_ptr<const std::string>{}));
}

TEST_CASE("a slow reader's overflow is logged once, however many sends overflow", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_max_outbound_bytes = 256 * 1024;
    tmon::test::log_capture logs;
    ws_server srv(config);
    auto c = open_ws(srv);
    auto peer = srv.peer(0);
    REQUIRE(c.send_frame(opcode::text, "flood"));
    auto f = frame_after_backlog(c);
    REQUIRE(f);
    CHECK(f->op == opcode::close);
    REQUIRE(c.send_frame(opcode::close, f->payload.substr(0, 2)));
    CHECK(srv.closes_of(peer->id()) == 1);
    CHECK(logs.count("reads slower than it is sent to") == 1);
}

TEST_CASE("a ping flood from a client that never reads holds bounded memory and ends in a close", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_max_outbound_bytes = 64 * 1024;
    config.limits.send_timeout = 500ms;
    config.limits.ws_ping_interval = 0ms;
    ws_server srv(config);
    auto flooder = open_ws(srv);
    auto other = open_ws(srv);
    auto peer = srv.peer(0);

    std::string batch;
    for (int i = 0; i < 100; ++i)
        batch += tmon::ws::encode_frame(opcode::ping, std::string(125, 'p'), true, tmon::ws::mask_key{9, 8, 7, 6});
    // Queued pongs may pass the cap by what one read's worth of pings asks for.
    const std::size_t bound = config.limits.ws_max_outbound_bytes + 32 * 1024;
    std::size_t most_pending = 0;
    auto outcome = blocking_client::send_result::sent;
    int batches = 0;
    // 4000 batches are 52 MB: far beyond what the socket buffers hold, so a
    // server that kept reading would answer them all.
    for (; batches < 4000 && outcome == blocking_client::send_result::sent; ++batches) {
        outcome = flooder.send_within(batch, 2000);
        most_pending = std::max(most_pending, peer->pending_bytes());
    }
    INFO("batches sent: " << batches << ", most queued: " << most_pending);
    CHECK(outcome != blocking_client::send_result::sent);  // paused (blocked) or closed
    CHECK(most_pending <= bound);

    // The other client is served all along.
    REQUIRE(other.send_frame(opcode::text, "still here?"));
    CHECK(other.read_data_frame()->payload == "echo:still here?");
    // The flooder's writes make no progress, so it is closed and forgotten.
    CHECK(srv.closes_of(peer->id()) == 1);
    CHECK(peer->pending_bytes() == 0);
}

TEST_CASE("a WebSocket reader that stops reading is closed after the send timeout", "[transport]") {
    auto config = loopback_config();
    config.limits.ws_max_outbound_bytes = 64 * 1024 * 1024;
    config.limits.send_timeout = 300ms;
    config.limits.ws_ping_interval = 0ms;
    ws_server srv(config);
    auto c = open_ws(srv);
    auto peer = srv.peer(0);
    // 32 MiB: more than loopback socket buffers take, less than the cap.
    auto chunk = std::make_shared<const std::string>(64 * 1024, 's');
    for (int i = 0; i < 512; ++i) REQUIRE(peer->send_text(chunk));
    CHECK(srv.closes_of(peer->id()) == 1);
    CHECK_FALSE(peer->send_text(chunk));
}
