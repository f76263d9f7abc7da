// websocketpp peer for the WebSocket fan-out benchmark: the broadcast server a user would
// write with websocketpp (one io thread, standalone Asio). Clients that send
// {"type":"subscribe",...} get {"type":"subscribed",...} and receive every other message
// any connection sends, unchanged. C++17: websocketpp 0.8.2 does not build as C++20 on g++ 12.
// Usage: wspp_broadcast --port P   (prints "listening <port>" once ready)
#define ASIO_STANDALONE
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace {

using ws_server = websocketpp::server<websocketpp::config::asio>;
using connection_set = std::set<websocketpp::connection_hdl, std::owner_less<websocketpp::connection_hdl>>;

bool is_subscribe(const std::string& payload) { return payload.find("\"type\":\"subscribe\"") != std::string::npos; }

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        if (std::string(argv[i]) == "--port") port = std::atoi(argv[i + 1]);

    ws_server server;
    connection_set subscribers;
    server.clear_access_channels(websocketpp::log::alevel::all);
    server.clear_error_channels(websocketpp::log::elevel::all);
    server.init_asio();
    server.set_reuse_addr(true);
    // Same as tmon: small frames must not wait for Nagle + delayed ACK.
    server.set_tcp_post_init_handler([&](websocketpp::connection_hdl hdl) {
        asio::error_code ignored;
        server.get_con_from_hdl(hdl)->get_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    });
    server.set_close_handler([&](websocketpp::connection_hdl hdl) { subscribers.erase(hdl); });
    server.set_fail_handler([&](websocketpp::connection_hdl hdl) { subscribers.erase(hdl); });
    server.set_message_handler([&](websocketpp::connection_hdl hdl, ws_server::message_ptr msg) {
        const std::string& payload = msg->get_payload();
        if (is_subscribe(payload)) {
            subscribers.insert(hdl);
            server.send(hdl, R"({"type":"subscribed","run_id":"bench"})", websocketpp::frame::opcode::text);
            return;
        }
        for (const auto& subscriber : subscribers) {
            websocketpp::lib::error_code ignored;
            server.send(subscriber, payload, websocketpp::frame::opcode::text, ignored);
        }
    });

    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    server.listen(endpoint);
    server.start_accept();
    asio::error_code ec;
    std::printf("listening %d\n", static_cast<int>(server.get_local_endpoint(ec).port()));
    std::fflush(stdout);
    server.run();
}
