#pragma once
// One keep-alive HTTP/1.1 connection from a trainer to tmon-server, with a
// deadline on every step (resolve, connect, write, read) so a server that
// hangs costs a timeout, never a stuck sender. Responses are read with the
// transport's own parser (http::response_parser). Blocking calls; one thread.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/core/error.hpp"
#include "tmon/transport/http/message.hpp"
#include "tmon/transport/http/parser.hpp"

namespace tmon::detail {

// "http://host:port/prefix" split up. https is refused with a clear message.
struct server_url {
    std::string host;
    std::string port = "80";
    std::string prefix;  // no trailing '/'

    static server_url parse(std::string_view url) {
        if (url.starts_with("https://"))
            throw error(
                errc::invalid_argument,
                "tmon: https:// server URLs are not supported yet; use http:// (on a trusted network, or through an SSH tunnel)");
        if (!url.starts_with("http://"))
            throw error(errc::invalid_argument,
                        "tmon: the server URL must start with http://, got '" + std::string(url) + "'");
        url.remove_prefix(7);
        server_url u;
        auto slash = url.find('/');
        std::string_view authority = url.substr(0, slash);
        if (slash != std::string_view::npos) {
            u.prefix = std::string(url.substr(slash));
            while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
        }
        if (authority.starts_with('[')) {  // [::1]:8080
            auto close = authority.find(']');
            if (close == std::string_view::npos)
                throw error(errc::invalid_argument, "tmon: malformed IPv6 address in the server URL");
            u.host = std::string(authority.substr(1, close - 1));
            authority.remove_prefix(close + 1);
            if (authority.starts_with(':')) u.port = std::string(authority.substr(1));
        } else {
            auto colon = authority.rfind(':');
            u.host = std::string(authority.substr(0, colon));
            if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
        }
        if (u.host.empty()) throw error(errc::invalid_argument, "tmon: the server URL has no host");
        if (u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos)
            throw error(errc::invalid_argument, "tmon: the server URL's port is not a number");
        return u;
    }

    std::string host_header() const {
        std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        return port == "80" ? h : h + ":" + port;
    }
};

// Why a request got no HTTP answer: the sender retries these.
class transfer_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class client_connection {
public:
    client_connection(server_url url, std::chrono::milliseconds timeout, std::vector<http::header> fixed_headers)
        : url_(std::move(url)), timeout_(timeout), fixed_headers_(std::move(fixed_headers)) {}

    // Sends one request and reads its response; reconnects first when the
    // previous exchange closed the connection. Throws transfer_error when no
    // complete response arrived within the timeout (the request may or may not
    // have been applied: every write tmon sends is idempotent).
    http::received_response send(std::string_view method, std::string_view path_and_query, std::string_view body = {},
                                 std::string_view content_type = "application/json") {
        bool fresh = !socket_.is_open();
        if (fresh) connect();
        std::string head = request_head(method, path_and_query, body.size(), content_type);
        try {
            return exchange(head, body);
        } catch (const transfer_error&) {
            close();
            // A kept-alive connection the server closed while idle fails on
            // first use: one immediate retry on a fresh connection.
            if (fresh || !last_failure_was_reset_) throw;
            connect();
            return exchange(head, body);
        }
    }

    void close() noexcept {
        std::error_code ec;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        parser_ = http::response_parser(limits());
    }

    bool is_open() const noexcept { return socket_.is_open(); }
    const server_url& url() const noexcept { return url_; }

private:
    static http::parser_limits limits() {
        http::parser_limits l;
        l.max_header_bytes = 64 * 1024;
        l.max_body_bytes = 256u << 20;
        return l;
    }

    std::string request_head(std::string_view method, std::string_view target, std::size_t body_size,
                             std::string_view content_type) const {
        std::string h;
        h.reserve(256);
        h.append(method).append(" ").append(url_.prefix).append(target).append(" HTTP/1.1\r\nHost: ");
        h.append(url_.host_header()).append("\r\n");
        for (const auto& x : fixed_headers_) h.append(x.name).append(": ").append(x.value).append("\r\n");
        if (body_size > 0 || method == "POST" || method == "PUT") {
            h.append("Content-Type: ").append(content_type).append("\r\n");
            h.append("Content-Length: ").append(std::to_string(body_size)).append("\r\n");
        }
        h.append("\r\n");
        return h;
    }

    void connect() {
        close();
        std::error_code result = asio::error::would_block;
        asio::ip::tcp::resolver::results_type endpoints;
        resolver_.async_resolve(url_.host, url_.port, [&](std::error_code ec, asio::ip::tcp::resolver::results_type r) {
            result = ec;
            endpoints = std::move(r);
        });
        run_for("resolving " + url_.host, result, [&] { resolver_.cancel(); });
        result = asio::error::would_block;
        asio::async_connect(socket_, endpoints,
                            [&](std::error_code ec, const asio::ip::tcp::endpoint&) { result = ec; });
        run_for("connecting to " + url_.host + ":" + url_.port, result, [&] { close(); });
        socket_.set_option(asio::ip::tcp::no_delay(true));
    }

    http::received_response exchange(const std::string& head, std::string_view body) {
        last_failure_was_reset_ = false;
        std::error_code result = asio::error::would_block;
        std::vector<asio::const_buffer> bufs{asio::buffer(head), asio::buffer(body.data(), body.size())};
        asio::async_write(socket_, bufs, [&](std::error_code ec, std::size_t) { result = ec; });
        run_for("sending the request", result, [&] { close(); });
        for (;;) {
            switch (parser_.parse()) {
                case http::parse_status::complete: {
                    auto resp = parser_.take();
                    // 100 Continue, 103 Early Hints: interim, the final response follows (RFC 9110 15.2).
                    // Taken as the answer, it read as a rejection (the record dropped) and left the real
                    // answer for the next request.
                    if (resp.status == 101) {
                        close();
                        throw transfer_error("the server switched protocols without being asked (101)");
                    }
                    if (resp.status < 200) continue;
                    if (!http::wants_keep_alive(resp)) close();
                    return resp;
                }
                case http::parse_status::failed:
                    throw transfer_error("unreadable response from the server: " + parser_.error().detail);
                default: break;
            }
            result = asio::error::would_block;
            std::size_t got = 0;
            auto buf = parser_.prepare(64 * 1024);
            socket_.async_read_some(asio::buffer(buf.data(), buf.size()), [&](std::error_code ec, std::size_t n) {
                result = ec;
                got = n;
            });
            try {
                run_for("waiting for the response", result, [&] { close(); });
            } catch (const transfer_error&) {
                if (result == asio::error::eof && parser_.finish_at_eof()) {
                    auto resp = parser_.take();
                    close();
                    return resp;
                }
                throw;
            }
            parser_.commit(got);
        }
    }

    // Runs the io_context until the pending operation sets `result` or the
    // timeout passes (then `cancel` aborts it and we throw).
    template <class Cancel>
    void run_for(const std::string& what, std::error_code& result, Cancel&& cancel) {
        io_.restart();
        io_.run_for(timeout_);
        if (result == asio::error::would_block) {
            cancel();
            io_.restart();
            io_.run();  // let the aborted handler run before `result` goes out of scope
            throw transfer_error(what + ": timed out after " + std::to_string(timeout_.count()) + " ms");
        }
        if (result) {
            last_failure_was_reset_ = result == asio::error::eof || result == asio::error::connection_reset ||
                                      result == asio::error::broken_pipe;
            throw transfer_error(what + ": " + result.message());
        }
    }

    server_url url_;
    std::chrono::milliseconds timeout_;
    std::vector<http::header> fixed_headers_;
    asio::io_context io_{1};
    asio::ip::tcp::resolver resolver_{io_};
    asio::ip::tcp::socket socket_{io_};
    http::response_parser parser_{limits()};
    bool last_failure_was_reset_ = false;
};

}  // namespace tmon::detail
