#pragma once
// The server side of the RFC 6455 opening handshake, without sockets.
#include <optional>
#include <string>
#include <string_view>

#include "tmon/transport/detail/sha1.hpp"
#include "tmon/transport/http/errors.hpp"
#include "tmon/transport/http/message.hpp"
#include "tmon/transport/http/parser.hpp"

namespace tmon::ws {

inline std::string accept_key(std::string_view client_key) {
    std::string s{client_key};
    s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    auto digest = tmon::detail::sha1(s);
    return tmon::detail::base64_encode({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

// nullopt when the request is a well-formed version-13 upgrade; otherwise
// the refusal to send (400, or 426 naming the version we speak).
inline std::optional<http::response> check_upgrade_request(const http::request& req) {
    if (req.method != "GET") return http::error_response(400, "a WebSocket upgrade must be a GET");
    if (req.version_minor != 1) return http::error_response(400, "a WebSocket upgrade needs HTTP/1.1");
    if (!http::is_upgrade_to_websocket(req))
        return http::error_response(426, "this path speaks WebSocket: send 'Upgrade: websocket'");
    if (req.header_value("Sec-WebSocket-Version") != "13") {
        auto r = http::error_response(426, "only WebSocket version 13 is supported");
        r.headers.push_back({"Sec-WebSocket-Version", "13"});
        return r;
    }
    auto key = req.header_value("Sec-WebSocket-Key");
    if (key.size() != 24) return http::error_response(400, "Sec-WebSocket-Key must be 16 bytes in base64");
    return std::nullopt;
}

inline std::string switching_protocols_head(const http::request& req) {
    std::string out =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
    out += accept_key(req.header_value("Sec-WebSocket-Key"));
    out += "\r\n\r\n";
    return out;
}

}  // namespace tmon::ws
