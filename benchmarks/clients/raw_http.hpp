// Minimal HTTP/1.1 keep-alive client on POSIX sockets, shared by the benchmark clients
// (C++17 so the websocketpp client can use it too). Enough for a benchmark talking to a
// known server: Content-Length bodies or chunked, no TLS, no redirects.
#pragma once

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bench {

struct http_reply {
    int status = 0;
    std::string body;
};

inline int connect_tcp(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
        throw std::runtime_error("cannot resolve " + host);
    int fd = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
    if (fd < 0 || ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
        freeaddrinfo(found);
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    }
    freeaddrinfo(found);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// One keep-alive connection; request() sends and waits for the whole reply.
class http_connection {
public:
    http_connection(std::string host, int port) : host_(std::move(host)), port_(port) {
        fd_ = connect_tcp(host_, port_);
    }
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;
    ~http_connection() {
        if (fd_ >= 0) ::close(fd_);
    }

    http_reply request(std::string_view method, std::string_view path, std::string_view body = {}) {
        send_request(method, path, body);
        return read_reply();
    }

    // For pipelining: one thread may send while another reads the replies, in order.
    void send_request(std::string_view method, std::string_view path, std::string_view body = {}) {
        out_.clear();
        out_.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ").append(host_);
        out_.append("\r\nConnection: keep-alive\r\n");
        if (!body.empty() || method == "POST" || method == "PUT") {
            out_.append("Content-Type: application/json\r\nContent-Length: ");
            out_.append(std::to_string(body.size())).append("\r\n");
        }
        out_.append("\r\n").append(body);
        send_all(out_);
    }

    http_reply read_reply() {
        size_t head_end;
        while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) fill();
        const std::string head = lower(std::string_view(in_).substr(0, head_end));
        http_reply reply;
        reply.status = std::atoi(head.c_str() + head.find(' ') + 1);
        in_.erase(0, head_end + 4);
        if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos) {
            const size_t length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
            while (in_.size() < length) fill();
            reply.body = in_.substr(0, length);
            in_.erase(0, length);
        } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
            reply.body = read_chunked();
        }
        return reply;
    }

private:
    void send_all(std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
            data.remove_prefix(static_cast<size_t>(n));
        }
    }

    void fill() {
        char chunk[65536];
        ssize_t n;
        do n = ::recv(fd_, chunk, sizeof chunk, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0) throw std::runtime_error("connection closed by server");
        in_.append(chunk, static_cast<size_t>(n));
    }

    static std::string lower(std::string_view s) {
        std::string out(s);
        for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    }

    std::string read_chunked() {
        std::string body;
        for (;;) {
            size_t line_end;
            while ((line_end = in_.find("\r\n")) == std::string::npos) fill();
            const size_t size = std::strtoull(in_.c_str(), nullptr, 16);
            in_.erase(0, line_end + 2);
            while (in_.size() < size + 2) fill();
            body.append(in_, 0, size);
            in_.erase(0, size + 2);
            if (size == 0) return body;
        }
    }

    std::string host_;
    int port_;
    int fd_ = -1;
    std::string out_;
    std::string in_;
};

}  // namespace bench
