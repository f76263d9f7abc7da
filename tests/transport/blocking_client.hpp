#pragma once
// A deliberately plain blocking client on POSIX sockets: what the tests use to
// talk to a real asio_transport the way curl or a browser would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tmon/transport/http/message.hpp"
#include "tmon/transport/ws/frame.hpp"

namespace tmon::test {

struct reply {
    int status = 0;
    std::vector<http::header> headers;
    std::string body;

    std::string_view header(std::string_view name) const {
        for (const auto& h : headers)
            if (http::iequals(h.name, name)) return h.value;
        return {};
    }
};

struct ws_frame {
    ws::opcode op{};
    bool fin = true;
    std::string payload;
    std::uint16_t close_code() const {
        if (payload.size() < 2) return 1005;
        return static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[0]) << 8 |
                                          static_cast<std::uint8_t>(payload[1]));
    }
};

class blocking_client {
public:
    // receive_buffer: SO_RCVBUF before connecting (0: the kernel's, which grows
    // as the client reads), to bound what a test's non-reading client can absorb.
    explicit blocking_client(std::uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        // A broken server makes a test fail after this long instead of hanging the suite.
        timeval tv{15, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error(std::string("connect() failed: ") + std::strerror(errno));
    }
    blocking_client(blocking_client&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
    blocking_client(const blocking_client&) = delete;
    ~blocking_client() {
        if (fd_ >= 0) ::close(fd_);
    }

    int fd() const noexcept { return fd_; }

    // False when the peer has closed (EPIPE/ECONNRESET).
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    enum class send_result { sent, blocked, closed };
    // Sends all of `bytes` unless the server stops taking them for `patience`
    // (blocked: it no longer reads) or the connection breaks (closed).
    send_result send_within(std::string_view bytes, int patience_ms) {
        while (!bytes.empty()) {
            pollfd p{fd_, POLLOUT, 0};
            int ready = ::poll(&p, 1, patience_ms);
            if (ready == 0) return send_result::blocked;
            if (ready < 0 || (p.revents & (POLLERR | POLLHUP))) return send_result::closed;
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
            if (n <= 0) return send_result::closed;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return send_result::sent;
    }

    // True when the server closed the connection (EOF or reset); false on timeout.
    bool wait_closed() {
        char buf[4096];
        while (true) {
            if (!buffer_.empty()) buffer_.clear();
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0) return true;
            if (n < 0) return errno == ECONNRESET || errno == EPIPE;
        }
    }

    std::optional<reply> read_response(bool head_request = false) {
        std::size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return std::nullopt;
        reply r;
        std::string_view head{buffer_.data(), end};
        auto line_end = head.find("\r\n");
        std::string_view status_line = head.substr(0, line_end);
        r.status = std::stoi(std::string{status_line.substr(9, 3)});
        head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 2);
        while (!head.empty()) {
            auto nl = head.find("\r\n");
            std::string_view line = head.substr(0, nl);
            auto colon = line.find(':');
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            r.headers.push_back({std::string{line.substr(0, colon)}, std::string{value}});
            head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 2);
        }
        buffer_.erase(0, end + 4);
        std::size_t length = 0;
        if (auto cl = r.header("Content-Length"); !cl.empty() && !head_request) length = std::stoul(std::string{cl});
        while (buffer_.size() < length)
            if (!fill()) return std::nullopt;
        r.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        return r;
    }

    // Decodes a chunked body after read_response(), handing each piece of
    // data to on_data as it arrives; true once the last chunk (size 0) and
    // the end of the trailers are read, false if the connection ends first.
    template <class OnData>
    bool read_chunked_body(OnData on_data) {
        while (true) {
            std::size_t eol;
            while ((eol = buffer_.find("\r\n")) == std::string::npos)
                if (!fill()) return false;
            std::size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
            buffer_.erase(0, eol + 2);
            if (size == 0) {
                while (buffer_.find("\r\n") != 0)  // no trailers are sent
                    if (!fill()) return false;
                buffer_.erase(0, 2);
                return true;
            }
            while (size > 0) {
                if (buffer_.empty() && !fill()) return false;
                std::size_t n = std::min(size, buffer_.size());
                on_data(std::string_view{buffer_.data(), n});
                buffer_.erase(0, n);
                size -= n;
            }
            while (buffer_.size() < 2)
                if (!fill()) return false;
            if (buffer_.compare(0, 2, "\r\n") != 0) return false;
            buffer_.erase(0, 2);
        }
    }

    // The rest of the stream until the server closes (an HTTP/1.0 body without length).
    std::string read_until_closed() {
        while (fill()) {}
        return std::exchange(buffer_, {});
    }

    std::optional<reply> request(std::string_view raw) {
        if (!send(raw)) return std::nullopt;
        return read_response();
    }

    // Client side of the WebSocket handshake; the reply is 101 on success.
    std::optional<reply> ws_handshake(std::string_view path = "/ws", std::string_view extra_headers = "") {
        std::string req = "GET " + std::string{path} +
                          " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        req += extra_headers;
        req += "\r\n";
        if (!send(req)) return std::nullopt;
        return read_response();
    }

    bool send_frame(ws::opcode op, std::string_view payload, bool fin = true, bool masked = true) {
        std::optional<ws::mask_key> mask;
        if (masked) mask = ws::mask_key{0x37, 0xfa, 0x21, 0x3d};
        return send(ws::encode_frame(op, payload, fin, mask));
    }

    std::optional<ws_frame> read_frame() {
        while (true) {
            auto h = ws::decode_header(buffer_);
            if (h && buffer_.size() >= h->header_size + h->length) {
                ws_frame f{h->op(), h->fin, buffer_.substr(h->header_size, static_cast<std::size_t>(h->length))};
                buffer_.erase(0, h->header_size + static_cast<std::size_t>(h->length));
                return f;
            }
            if (!fill()) return std::nullopt;
        }
    }

    // The next frame that is not a ping (servers ping idle clients).
    std::optional<ws_frame> read_data_frame() {
        while (true) {
            auto f = read_frame();
            if (!f || f->op != ws::opcode::ping) return f;
        }
    }

private:
    bool fill() {
        char buf[16384];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        buffer_.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::string buffer_;
};

}  // namespace tmon::test
