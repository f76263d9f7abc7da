#pragma once
// REST and WebSocket clients for the server tests: real sockets to a real
// server on 127.0.0.1, built on the transport tests' blocking client, with
// replies parsed by RapidJSON so assertions read like the wire contract.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "transport/blocking_client.hpp"

namespace tmon::test {

// A reply with its body parsed (when it has one).
struct api_reply : reply {
    rapidjson::Document json;

    const rapidjson::Value& operator[](const char* key) const { return json[key]; }
    std::string error_kind() const {
        return json.IsObject() && json.HasMember("error") ? json["error"].GetString() : "";
    }
};

inline std::string str(const rapidjson::Value& v) {
    return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string{};
}

class api_client {
public:
    explicit api_client(std::uint16_t port, std::string token = {}) : port_(port), token_(std::move(token)) {}

    api_reply get(std::string_view path, std::string_view extra_headers = "") {
        return call("GET", path, {}, extra_headers);
    }
    api_reply post(std::string_view path, std::string_view body, std::string_view extra_headers = "") {
        return call("POST", path, body, extra_headers);
    }
    api_reply put(std::string_view path, std::string_view body) { return call("PUT", path, body); }
    api_reply del(std::string_view path) { return call("DELETE", path, {}); }

    api_reply call(std::string_view method, std::string_view path, std::string_view body,
                   std::string_view extra_headers = "") {
        std::string req = fmt::format("{} {} HTTP/1.1\r\n", method, path);
        if (extra_headers.find("Host:") == std::string_view::npos) req += "Host: 127.0.0.1\r\n";
        if (!token_.empty()) req += fmt::format("Authorization: Bearer {}\r\n", token_);
        if (!body.empty() && extra_headers.find("Content-Type") == std::string_view::npos)
            req += "Content-Type: application/json\r\n";
        req += extra_headers;
        req += fmt::format("Content-Length: {}\r\n\r\n", body.size());
        req += body;
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!conn_) conn_ = std::make_unique<blocking_client>(port_);
            auto r = conn_->request(req);
            if (r && method != "HEAD" && http::iequals(r->header("Transfer-Encoding"), "chunked")) {
                // A streamed body (exports): whole, or no reply at all.
                if (!conn_->read_chunked_body([&](std::string_view data) { r->body.append(data); }))
                    throw std::runtime_error(fmt::format("the streamed reply to {} {} was cut short", method, path));
            }
            if (r) return to_reply(std::move(*r), method == "HEAD");
            conn_.reset();  // the server closed a kept-alive connection: retry once on a new one
        }
        throw std::runtime_error(fmt::format("no reply to {} {}", method, path));
    }

private:
    static api_reply to_reply(reply r, bool head) {
        api_reply out;
        static_cast<reply&>(out) = std::move(r);
        if (!head && !out.body.empty()) out.json.Parse(out.body.data(), out.body.size());
        return out;
    }

    std::uint16_t port_;
    std::string token_;
    std::unique_ptr<blocking_client> conn_;
};

class ws_client {
public:
    explicit ws_client(std::uint16_t port, std::string_view path = "/ws", std::string_view headers = "") : conn_(port) {
        auto r = conn_.ws_handshake(path, headers);
        handshake_status_ = r ? r->status : 0;
    }

    int handshake_status() const { return handshake_status_; }
    blocking_client& raw() { return conn_; }

    void send(std::string_view text) {
        if (!conn_.send_frame(ws::opcode::text, text)) throw std::runtime_error("ws send failed");
    }

    // The next text message, parsed; throws when the connection ends or times out.
    rapidjson::Document next() {
        auto f = conn_.read_data_frame();
        if (!f) throw std::runtime_error("no ws message (closed or timed out)");
        if (f->op == ws::opcode::close) throw std::runtime_error(fmt::format("ws closed with {}", f->close_code()));
        rapidjson::Document d;
        d.Parse(f->payload.data(), f->payload.size());
        if (d.HasParseError()) throw std::runtime_error("ws message is not JSON: " + f->payload);
        return d;
    }

    // The next message of this type, skipping others (system_update, event...).
    rapidjson::Document next_of(std::string_view type) {
        for (;;) {
            auto d = next();
            if (d.IsObject() && d.HasMember("type") && str(d["type"]) == type) return d;
        }
    }

    void subscribe(std::string_view run_id) {
        send(fmt::format(R"({{"type":"subscribe","run_id":"{}"}})", run_id));
        auto d = next_of("subscribed");
        if (str(d["run_id"]) != run_id) throw std::runtime_error("subscribed to the wrong run");
    }

private:
    blocking_client conn_;
    int handshake_status_ = 0;
};

}  // namespace tmon::test
