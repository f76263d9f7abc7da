// ws::check_upgrade_request (and what follows an accepted one).
//
// An input that starts with an upper-case letter is an HTTP request on the
// wire: it goes through http::request_parser first, as on a connection. Any
// other input builds an http::request field by field (method, version, headers
// from a list of the names the check looks at), so the fuzzer reaches every
// branch of the check without having to get HTTP syntax right first.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "tmon/transport/http/parser.hpp"
#include "tmon/transport/ws/handshake.hpp"

namespace {

using namespace tmon;

bool is_base64(std::string_view s) {
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '='))
            return false;
    return true;
}

void check(const http::request& req) {
    (void)http::wants_keep_alive(req);
    auto refusal = ws::check_upgrade_request(req);
    if (refusal) {
        TMON_FUZZ_CHECK(refusal->status == 400 || refusal->status == 426);
        TMON_FUZZ_CHECK(refusal->body.starts_with("{\"error\":"));
        return;
    }
    // Accepted: it must really be a version-13 GET upgrade with a 24-char key.
    TMON_FUZZ_CHECK(req.method == "GET");
    TMON_FUZZ_CHECK(req.version_minor == 1);
    TMON_FUZZ_CHECK(http::is_upgrade_to_websocket(req));
    TMON_FUZZ_CHECK(req.header_value("Sec-WebSocket-Version") == "13");
    TMON_FUZZ_CHECK(req.header_value("Sec-WebSocket-Key").size() == 24);
    auto accept = ws::accept_key(req.header_value("Sec-WebSocket-Key"));
    TMON_FUZZ_CHECK(accept.size() == 28 && is_base64(accept));  // base64 of a 20-byte SHA-1
    auto head = ws::switching_protocols_head(req);
    TMON_FUZZ_CHECK(head.find(accept) != std::string::npos);
    TMON_FUZZ_CHECK(head.ends_with("\r\n\r\n"));
}

void from_wire(std::string_view bytes) {
    http::request_parser p;
    p.feed(bytes);
    while (p.parse() == http::parse_status::complete) {
        auto req = p.take();
        check(req);
        if (http::is_upgrade_to_websocket(req)) {
            (void)p.take_buffered();  // the rest belongs to the WebSocket
            return;
        }
    }
}

void from_fields(std::string_view bytes) {
    fuzz::byte_reader in(bytes);
    static const char* const methods[] = {"GET", "POST", "get", "HEAD", "OPTIONS"};
    static const char* const names[] = {"Connection",
                                        "Upgrade",
                                        "Sec-WebSocket-Version",
                                        "Sec-WebSocket-Key",
                                        "connection",
                                        "UPGRADE",
                                        "sec-websocket-key",
                                        "Host",
                                        "Origin",
                                        "Sec-WebSocket-Protocol"};
    static const char* const values[] = {"Upgrade", "upgrade", "keep-alive, Upgrade",      "websocket", "WebSocket",
                                         "13",      "8",       "dGhlIHNhbXBsZSBub25jZQ==", "close",     " , ,Upgrade,",
                                         ""};
    http::request req;
    req.method = in.flag() ? std::string(methods[in.below(5)]) : std::string(in.string(8));
    req.version_minor = in.flag() ? 1 : 0;
    req.target = req.path = "/ws";
    for (auto n = in.below(13); n > 0 && !in.empty(); --n) {
        http::header h;
        h.name = in.flag() ? std::string(names[in.below(10)]) : std::string(in.string(24));
        h.value = in.flag() ? std::string(values[in.below(11)]) : std::string(in.string(40));
        req.headers.push_back(std::move(h));
    }
    check(req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    if (data[0] >= 'A' && data[0] <= 'Z') from_wire({reinterpret_cast<const char*>(data), size});
    else from_fields({reinterpret_cast<const char*>(data) + 1, size - 1});
    return 0;
}
