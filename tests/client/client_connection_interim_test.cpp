// The client's connection reads past interim 1xx responses (100 Continue, 103
// Early Hints, which a proxy or server may send unasked) to the final one, and
// the next request gets its own answer, not the previous one's.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "tmon/client/detail/client_connection.hpp"

namespace {

// Reads one request head (these requests carry no body past it, or a short one read with it).
std::string read_request(int fd) {
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

TEST_CASE("client connection: interim 1xx responses are skipped, the final one answers", "[client][http]") {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const int port = ntohs(addr.sin_port);

    std::thread server([listener] {
        int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) return;
        read_request(fd);
        write_all(fd,
                  "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n"
                  "HTTP/1.1 100 Continue\r\n\r\n"
                  "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
        read_request(fd);
        write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
        ::close(fd);
    });
    {
        tmon::detail::client_connection conn(
            tmon::detail::server_url::parse("http://127.0.0.1:" + std::to_string(port)), std::chrono::seconds(5), {});
        auto first = conn.send("POST", "/api/runs", "{}");
        CHECK(first.status == 201);
        CHECK(first.body == "{}");
        auto second = conn.send("GET", "/api/version");
        CHECK(second.status == 200);
        CHECK(second.body == "next");
    }
    server.join();
    ::close(listener);
}
