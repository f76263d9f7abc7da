#include <catch2/catch.hpp>

#include <string>

#include "tmon/transport/detail/sha1.hpp"
#include "tmon/transport/ws/frame.hpp"
#include "tmon/transport/ws/handshake.hpp"
#include "tmon/transport/ws/message_reader.hpp"
#include "tmon/transport/ws/utf8.hpp"

using namespace tmon::ws;

namespace {

const mask_key test_mask{0x12, 0x34, 0x56, 0x78};

std::string client_frame(opcode op, std::string_view payload, bool fin = true) {
    return encode_frame(op, payload, fin, test_mask);
}

// The first event, with its payload copied out of the reader it views.
struct owned_event {
    event::kind_t kind;
    std::string payload;
    std::uint16_t code;
};

owned_event single_event(std::string_view bytes, reader_limits limits = {}) {
    message_reader r(limits);
    r.feed(bytes);
    auto e = r.next();
    return {e.kind, std::string{e.payload}, e.code};
}

}  // namespace

TEST_CASE("the handshake accept key matches RFC 6455's example", "[transport]") {
    CHECK(accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("sha1 and base64 match known vectors", "[transport]") {
    auto hex = [](const std::array<std::uint8_t, 20>& d) {
        std::string s;
        for (auto b : d) {
            const char* digits = "0123456789abcdef";
            s += digits[b >> 4];
            s += digits[b & 15];
        }
        return s;
    };
    CHECK(hex(tmon::detail::sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(hex(tmon::detail::sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex(tmon::detail::sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(hex(tmon::detail::sha1(std::string(1000, 'a'))) == "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    CHECK(tmon::detail::base64_encode("") == "");
    CHECK(tmon::detail::base64_encode("f") == "Zg==");
    CHECK(tmon::detail::base64_encode("fo") == "Zm8=");
    CHECK(tmon::detail::base64_encode("foo") == "Zm9v");
    CHECK(tmon::detail::base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("frame lengths use the 7-bit, 16-bit and 64-bit forms at their boundaries", "[transport]") {
    struct boundary {
        std::size_t length;
        std::size_t header;
    };
    for (auto [length, header] : {boundary{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}}) {
        std::string payload(length, 'x');
        auto server = encode_frame(opcode::text, payload);
        CHECK(server.size() == header + length);
        auto h = decode_header(server);
        REQUIRE(h);
        CHECK(h->length == length);
        CHECK(h->header_size == header);
        CHECK_FALSE(h->masked);

        auto e = single_event(client_frame(opcode::text, payload));
        REQUIRE(e.kind == event::text);
        CHECK(e.payload == payload);
    }
}

TEST_CASE("masking round-trips and the reader unmasks", "[transport]") {
    std::string data = "hello, masked world";
    std::string copy = data;
    apply_mask(copy.data(), copy.size(), test_mask);
    CHECK(copy != data);
    apply_mask(copy.data(), copy.size(), test_mask);
    CHECK(copy == data);
    auto e = single_event(client_frame(opcode::text, data));
    CHECK(e.payload == data);
}

TEST_CASE("an incomplete frame waits for more bytes, split anywhere", "[transport]") {
    std::string bytes = client_frame(opcode::text, std::string(300, 'y')) + client_frame(opcode::text, "second");
    for (std::size_t split = 0; split < bytes.size(); ++split) {
        message_reader r;
        std::vector<std::string> got;
        r.feed(std::string_view{bytes}.substr(0, split));
        for (auto e = r.next(); e.kind == event::text; e = r.next()) got.emplace_back(e.payload);
        r.feed(std::string_view{bytes}.substr(split));
        for (auto e = r.next(); e.kind == event::text; e = r.next()) got.emplace_back(e.payload);
        REQUIRE(got.size() == 2);
        CHECK(got[0] == std::string(300, 'y'));
        CHECK(got[1] == "second");
    }
}

TEST_CASE("fragments are reassembled, with control frames between them", "[transport]") {
    message_reader r;
    r.feed(client_frame(opcode::text, "Hel", false));
    r.feed(client_frame(opcode::ping, "p1"));
    r.feed(client_frame(opcode::continuation, "lo, ", false));
    r.feed(client_frame(opcode::pong, ""));
    r.feed(client_frame(opcode::continuation, "world"));
    auto ping = r.next();
    CHECK(ping.kind == event::ping);
    CHECK(ping.payload == "p1");
    CHECK(r.next().kind == event::pong);
    auto msg = r.next();
    CHECK(msg.kind == event::text);
    CHECK(msg.payload == "Hello, world");
    CHECK(r.next().kind == event::need_more);
}

TEST_CASE("protocol violations earn close 1002", "[transport]") {
    CHECK(single_event(encode_frame(opcode::text, "unmasked")).code == close_code::protocol_error);
    CHECK(single_event(client_frame(opcode::continuation, "orphan")).code == close_code::protocol_error);
    CHECK(single_event(client_frame(opcode::text, "a", false) + client_frame(opcode::text, "b")).code ==
          close_code::protocol_error);
    CHECK(single_event(client_frame(opcode::ping, "x", false)).code == close_code::protocol_error);
    CHECK(single_event(client_frame(opcode::ping, std::string(126, 'x'))).code == close_code::protocol_error);
    auto rsv = client_frame(opcode::text, "x");
    rsv[0] = static_cast<char>(rsv[0] | 0x40);
    CHECK(single_event(rsv).code == close_code::protocol_error);
    auto reserved_opcode = client_frame(opcode::text, "x");
    reserved_opcode[0] = static_cast<char>(0x80 | 0x3);
    CHECK(single_event(reserved_opcode).code == close_code::protocol_error);
    CHECK(single_event(client_frame(opcode::close, "x")).code == close_code::protocol_error);
    CHECK(single_event(client_frame(opcode::close, close_payload(1005))).code == close_code::protocol_error);
}

TEST_CASE("invalid UTF-8 in a text message earns close 1007, even across fragments", "[transport]") {
    CHECK(single_event(client_frame(opcode::text, "\xff")).code == close_code::invalid_payload);
    auto e = single_event(client_frame(opcode::text, "\xe2\x82", false) + client_frame(opcode::continuation, "\xac"));
    CHECK(e.kind == event::text);
    CHECK(e.payload == "\xe2\x82\xac");
    CHECK(single_event(client_frame(opcode::close, close_payload(1000, "\xc0\xaf"))).code ==
          close_code::invalid_payload);
}

TEST_CASE("a message over the size cap earns close 1009, also when fragmented", "[transport]") {
    reader_limits limits{.max_message_bytes = 100, .require_masked = true};
    CHECK(single_event(client_frame(opcode::text, std::string(100, 'a')), limits).kind == event::text);
    CHECK(single_event(client_frame(opcode::text, std::string(101, 'a')), limits).code == close_code::message_too_big);
    auto parts = client_frame(opcode::text, std::string(60, 'a'), false) +
                 client_frame(opcode::continuation, std::string(60, 'a'));
    CHECK(single_event(parts, limits).code == close_code::message_too_big);
}

TEST_CASE("a close frame reports its code and reason", "[transport]") {
    auto e = single_event(client_frame(opcode::close, close_payload(4001, "bye")));
    CHECK(e.kind == event::close);
    CHECK(e.code == 4001);
    CHECK(e.payload == "bye");
    CHECK(single_event(client_frame(opcode::close, "")).code == close_code::no_status);
}

TEST_CASE("the UTF-8 validator rejects overlongs, surrogates and truncation", "[transport]") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
    CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));                              // U+1F600
    CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));                              // U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xc0\x80"));                                // overlong NUL
    CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));                            // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));                            // surrogate U+D800
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));                        // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xe2\x82"));                                // truncated
    CHECK_FALSE(is_valid_utf8("\x80"));                                    // lone continuation
    CHECK_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));                    // 5-byte form
}

TEST_CASE("an upgrade with the wrong version is refused with 426", "[transport]") {
    tmon::http::request req;
    req.method = "GET";
    req.headers = {{"Upgrade", "websocket"},
                   {"Connection", "keep-alive, Upgrade"},
                   {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                   {"Sec-WebSocket-Version", "13"}};
    CHECK_FALSE(check_upgrade_request(req));
    req.headers[3].value = "8";
    auto refusal = check_upgrade_request(req);
    REQUIRE(refusal);
    CHECK(refusal->status == 426);
}
