// The 100 WebSocket subscribers and the one writer of the fan-out benchmark, identical for
// every server measured. The writer stamps each update with its send time (CLOCK_MONOTONIC
// microseconds) as the metric "sent_us"; each subscriber takes receive time - sent_us for
// every point it is delivered (a coalesced metric_update carries several in "points").
//   --target tmon : the writer POSTs one point per update to /api/runs/{id}/metrics over a
//                   keep-alive connection; subscribers send {"type":"subscribe","run_id":id}.
//                   --writer pipelined (default) sends on schedule and reads the replies on
//                   another thread, so the offered rate holds whatever the reply latency;
//                   --writer sync waits for each reply (a slow ack then lowers the rate).
//   --target wspp : the writer sends each update as a WS message shaped like tmon's
//                   metric_update; the server broadcasts it to every subscriber.
// Prints a summary and one "RESULT key=value ..." line for bench_ws_fanout.
// C++17 and no tmon header: websocketpp 0.8.2 does not build as C++20 on g++ 12.
#define ASIO_STANDALONE
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include <rapidjson/document.h>

#include "raw_http.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using ws_client = websocketpp::client<websocketpp::config::asio_client>;

std::int64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

struct options {
    std::string target = "tmon";
    std::string host = "127.0.0.1";
    int port = 0;
    int clients = 100;
    int rate = 1000;
    double seconds = 10;
    int threads = 2;
    std::string run_id;
    bool pipelined = true;
};

options parse_options(int argc, char** argv) {
    options opt;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--target") opt.target = value;
        else if (flag == "--host") opt.host = value;
        else if (flag == "--port") opt.port = std::atoi(value);
        else if (flag == "--clients") opt.clients = std::atoi(value);
        else if (flag == "--rate") opt.rate = std::atoi(value);
        else if (flag == "--seconds") opt.seconds = std::atof(value);
        else if (flag == "--threads") opt.threads = std::max(1, std::atoi(value));
        else if (flag == "--run-id") opt.run_id = value;
        else if (flag == "--writer") opt.pipelined = std::string(value) != "sync";
    }
    if (opt.port == 0 || (opt.target != "tmon" && opt.target != "wspp")) {
        std::fprintf(stderr,
                     "usage: ws_fanout_client --target tmon|wspp --port P [--host H] [--clients 100] "
                     "[--rate 1000] [--seconds 10] [--threads 2] [--run-id ID] [--writer pipelined|sync]\n");
        std::exit(2);
    }
    return opt;
}

void quiet(ws_client& endpoint) {
    endpoint.clear_access_channels(websocketpp::log::alevel::all);
    endpoint.clear_error_channels(websocketpp::log::elevel::all);
    endpoint.init_asio();
    endpoint.start_perpetual();
    endpoint.set_tcp_post_init_handler([&endpoint](websocketpp::connection_hdl hdl) {
        asio::error_code ignored;
        endpoint.get_con_from_hdl(hdl)->get_socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    });
}

// Subscribers sharing one endpoint and one io thread; stats are touched only by that thread
// until it is joined.
struct receiver_group {
    ws_client endpoint;
    std::thread io;
    std::vector<std::uint32_t> latencies_us;
    std::atomic<std::int64_t> delivered{0};
    std::atomic<std::int64_t> last_receive_us{0};
    std::atomic<int> subscribed{0};
    std::atomic<int> failed{0};
    std::int64_t frames = 0;
    std::int64_t dropped = 0;
    std::int64_t malformed = 0;

    void record_point(const rapidjson::Value& point, std::int64_t received_us) {
        if (!point.IsObject()) return;
        auto metrics = point.FindMember("metrics");
        if (metrics == point.MemberEnd() || !metrics->value.IsObject()) return;
        auto sent = metrics->value.FindMember("sent_us");
        if (sent == metrics->value.MemberEnd() || !sent->value.IsNumber()) return;
        const auto latency = received_us - static_cast<std::int64_t>(sent->value.GetDouble());
        latencies_us.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(latency, 0)));
        delivered.fetch_add(1, std::memory_order_relaxed);
    }

    void on_message(const std::string& payload) {
        const std::int64_t received_us = now_us();
        rapidjson::Document doc;
        doc.Parse(payload.data(), payload.size());
        if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("type") || !doc["type"].IsString()) {
            ++malformed;
            return;
        }
        const std::string_view type = doc["type"].GetString();
        if (type == "subscribed") {
            subscribed.fetch_add(1);
            return;
        }
        if (type != "metric_update") return;
        ++frames;
        if (auto d = doc.FindMember("dropped"); d != doc.MemberEnd() && d->value.IsNumber())
            dropped += static_cast<std::int64_t>(d->value.GetDouble());
        auto points = doc.FindMember("points");
        if (points != doc.MemberEnd() && points->value.IsArray() && !points->value.Empty()) {
            for (const auto& point : points->value.GetArray()) record_point(point, received_us);
        } else {
            record_point(doc, received_us);
        }
        last_receive_us.store(received_us, std::memory_order_relaxed);
    }

    void open(const std::string& uri, const std::string& subscribe_message, int count) {
        quiet(endpoint);
        endpoint.set_open_handler([this, subscribe_message](websocketpp::connection_hdl hdl) {
            endpoint.send(hdl, subscribe_message, websocketpp::frame::opcode::text);
        });
        endpoint.set_fail_handler([this](websocketpp::connection_hdl) { failed.fetch_add(1); });
        endpoint.set_message_handler(
            [this](websocketpp::connection_hdl, ws_client::message_ptr msg) { on_message(msg->get_payload()); });
        for (int i = 0; i < count; ++i) {
            websocketpp::lib::error_code ec;
            auto connection = endpoint.get_connection(uri, ec);
            if (ec) throw std::runtime_error("bad uri " + uri + ": " + ec.message());
            endpoint.connect(connection);
        }
        io = std::thread([this] { endpoint.run(); });
    }

    void stop() {
        endpoint.stop_perpetual();
        endpoint.stop();
        if (io.joinable()) io.join();
    }
};

// The writer for --target wspp: one more WS connection whose messages the server broadcasts.
class ws_writer {
public:
    explicit ws_writer(const std::string& uri) {
        quiet(endpoint_);
        endpoint_.set_open_handler([this](websocketpp::connection_hdl hdl) {
            hdl_ = hdl;
            open_.store(true);
        });
        websocketpp::lib::error_code ec;
        auto connection = endpoint_.get_connection(uri, ec);
        if (ec) throw std::runtime_error("bad uri " + uri);
        endpoint_.connect(connection);
        io_ = std::thread([this] { endpoint_.run(); });
        for (int i = 0; i < 500 && !open_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!open_.load()) throw std::runtime_error("writer could not open " + uri);
    }
    ~ws_writer() {
        endpoint_.stop_perpetual();
        endpoint_.stop();
        if (io_.joinable()) io_.join();
    }

    void send(std::int64_t step, std::int64_t sent_us) {
        const std::string point =
            "{\"step\":" + std::to_string(step) + ",\"metrics\":{\"sent_us\":" + std::to_string(sent_us) + "}}";
        auto message = std::make_shared<std::string>(
            "{\"type\":\"metric_update\",\"run_id\":\"bench\",\"step\":" + std::to_string(step) +
            ",\"metrics\":{\"sent_us\":" + std::to_string(sent_us) + "},\"points\":[" + point + "],\"dropped\":0}");
        asio::post(endpoint_.get_io_service(), [this, message] {
            websocketpp::lib::error_code ignored;
            endpoint_.send(hdl_, *message, websocketpp::frame::opcode::text, ignored);
        });
    }

private:
    ws_client endpoint_;
    std::thread io_;
    websocketpp::connection_hdl hdl_;
    std::atomic<bool> open_{false};
};

std::string create_tmon_run(const options& opt) {
    bench::http_connection http(opt.host, opt.port);
    const auto reply = http.request("POST", "/api/runs", R"({"name":"bench-ws-fanout"})");
    rapidjson::Document doc;
    doc.Parse(reply.body.data(), reply.body.size());
    if (reply.status != 200 || doc.HasParseError() || !doc.IsObject() || !doc.HasMember("id") || !doc["id"].IsString())
        throw std::runtime_error("POST /api/runs failed: " + std::to_string(reply.status) + " " + reply.body);
    return doc["id"].GetString();
}

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    const auto index = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) try {
    const options opt = parse_options(argc, argv);
    const std::string run_id =
        opt.target == "wspp" ? "bench" : (opt.run_id.empty() ? create_tmon_run(opt) : opt.run_id);
    const std::string uri = "ws://" + opt.host + ":" + std::to_string(opt.port) + "/ws";
    const std::string subscribe = R"({"type":"subscribe","run_id":")" + run_id + "\"}";

    std::vector<std::unique_ptr<receiver_group>> groups;
    for (int g = 0; g < opt.threads; ++g) {
        groups.push_back(std::make_unique<receiver_group>());
        const int count = opt.clients / opt.threads + (g < opt.clients % opt.threads ? 1 : 0);
        groups.back()->open(uri, subscribe, count);
    }
    auto count_of = [&](auto member) {
        std::int64_t total = 0;
        for (auto& group : groups) total += ((*group).*member).load();
        return total;
    };
    for (int i = 0; i < 1000 && count_of(&receiver_group::subscribed) + count_of(&receiver_group::failed) < opt.clients;
         ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (count_of(&receiver_group::subscribed) < opt.clients) {
        std::fprintf(stderr, "only %lld of %d clients subscribed (%lld failed)\n",
                     static_cast<long long>(count_of(&receiver_group::subscribed)), opt.clients,
                     static_cast<long long>(count_of(&receiver_group::failed)));
        for (auto& group : groups) group->stop();
        return 1;
    }

    std::unique_ptr<ws_writer> wspp_writer;
    std::unique_ptr<bench::http_connection> http_writer;
    if (opt.target == "wspp") wspp_writer = std::make_unique<ws_writer>(uri);
    else http_writer = std::make_unique<bench::http_connection>(opt.host, opt.port);
    const std::string metrics_path = "/api/runs/" + run_id + "/metrics";

    const auto updates = static_cast<std::int64_t>(opt.rate * opt.seconds);
    const double interval_us = 1e6 / opt.rate;
    std::atomic<std::int64_t> failed_posts{0};
    // Send time of each POST and how long its reply took: the part of the delivery latency
    // that is tmon's write path (parse, commit) rather than its fan-out.
    std::vector<std::atomic<std::int64_t>> post_sent_us(http_writer ? static_cast<size_t>(updates) : 0);
    std::vector<std::uint32_t> ack_us;
    std::thread reply_reader;
    if (http_writer && opt.pipelined)
        reply_reader = std::thread([&] {
            try {
                ack_us.reserve(static_cast<size_t>(updates));
                for (std::int64_t i = 0; i < updates; ++i) {
                    if (http_writer->read_reply().status != 200) ++failed_posts;
                    const auto sent = post_sent_us[static_cast<size_t>(i)].load(std::memory_order_acquire);
                    ack_us.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(now_us() - sent, 0)));
                }
            } catch (const std::exception& e) {
                std::fprintf(stderr, "writer connection: %s\n", e.what());
            }
        });
    std::string body;
    const std::int64_t start_us = now_us();
    for (std::int64_t step = 0; step < updates; ++step) {
        const auto due_us = start_us + static_cast<std::int64_t>(static_cast<double>(step) * interval_us);
        if (const auto wait = due_us - now_us(); wait > 0) std::this_thread::sleep_for(std::chrono::microseconds(wait));
        const std::int64_t sent_us = now_us();
        if (wspp_writer) {
            wspp_writer->send(step, sent_us);
        } else {
            body = "{\"step\":" + std::to_string(step) + ",\"metrics\":{\"sent_us\":" + std::to_string(sent_us) + "}}";
            post_sent_us[static_cast<size_t>(step)].store(sent_us, std::memory_order_release);
            if (opt.pipelined) {
                http_writer->send_request("POST", metrics_path, body);
            } else {
                if (http_writer->request("POST", metrics_path, body).status != 200) ++failed_posts;
                ack_us.push_back(static_cast<std::uint32_t>(now_us() - sent_us));
            }
        }
    }
    const std::int64_t send_end_us = now_us();
    if (reply_reader.joinable()) reply_reader.join();

    // Let the tail arrive: stop once everything came or nothing new came for a second.
    const std::int64_t expected = (updates - failed_posts) * opt.clients;
    std::int64_t seen = -1;
    for (int quiet_ticks = 0; quiet_ticks < 20;) {
        const auto delivered = count_of(&receiver_group::delivered);
        if (delivered >= expected) break;
        quiet_ticks = delivered == seen ? quiet_ticks + 1 : 0;
        seen = delivered;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    wspp_writer.reset();
    for (auto& group : groups) group->stop();

    std::vector<std::uint32_t> latencies;
    std::int64_t frames = 0, dropped = 0, malformed = 0, last_receive_us = start_us;
    for (auto& group : groups) {
        latencies.insert(latencies.end(), group->latencies_us.begin(), group->latencies_us.end());
        frames += group->frames;
        dropped += group->dropped;
        malformed += group->malformed;
        last_receive_us = std::max<std::int64_t>(last_receive_us, group->last_receive_us.load());
    }
    std::sort(latencies.begin(), latencies.end());
    const auto delivered = static_cast<std::int64_t>(latencies.size());
    const double send_seconds = static_cast<double>(send_end_us - start_us) / 1e6;
    const double receive_seconds = static_cast<double>(std::max(last_receive_us, send_end_us) - start_us) / 1e6;
    const double msgs_per_s = static_cast<double>(delivered) / receive_seconds;

    std::printf("%s: %lld updates in %.2f s (%.0f/s, %lld failed), %d clients\n", opt.target.c_str(),
                static_cast<long long>(updates), send_seconds, static_cast<double>(updates) / send_seconds,
                static_cast<long long>(failed_posts.load()), opt.clients);
    std::printf("  delivered %lld of %lld points in %lld frames (dropped %lld, malformed %lld), %.0f points/s\n",
                static_cast<long long>(delivered), static_cast<long long>(expected), static_cast<long long>(frames),
                static_cast<long long>(dropped), static_cast<long long>(malformed), msgs_per_s);
    std::printf("  latency us: p50 %u  p99 %u  max %u\n", percentile(latencies, 0.50), percentile(latencies, 0.99),
                latencies.empty() ? 0u : latencies.back());
    std::sort(ack_us.begin(), ack_us.end());
    if (!ack_us.empty())
        std::printf("  POST reply latency us: p50 %u  p99 %u  max %u\n", percentile(ack_us, 0.50),
                    percentile(ack_us, 0.99), ack_us.back());
    std::printf(
        "RESULT target=%s updates=%lld send_rate=%.1f expected=%lld delivered=%lld frames=%lld dropped=%lld "
        "failed_posts=%lld p50_us=%u p99_us=%u max_us=%u msgs_per_s=%.1f ack_p50_us=%u ack_p99_us=%u\n",
        opt.target.c_str(), static_cast<long long>(updates), static_cast<double>(updates) / send_seconds,
        static_cast<long long>(expected), static_cast<long long>(delivered), static_cast<long long>(frames),
        static_cast<long long>(dropped), static_cast<long long>(failed_posts.load()), percentile(latencies, 0.50),
        percentile(latencies, 0.99), latencies.empty() ? 0u : latencies.back(), msgs_per_s, percentile(ack_us, 0.50),
        percentile(ack_us, 0.99));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "ws_fanout_client: %s\n", e.what());
    return 1;
}
