// WebSocket fan-out: one writer at 1,000 updates/s, 100 subscribers; delivery latency
// (p50/p99/max) and points received per second, tmon-server (sqlite store; the writer
// POSTs each update) against a websocketpp broadcast server (the writer sends each update
// as a WS message), both driven by the same client program, ws_fanout_client.
//
//   bench_ws_fanout [--seconds 10] [--rate 1000] [--clients 100] [--client-threads 2]
//                   [--writer pipelined|sync] [--bin-dir DIR] [--server PATH]
//
// --writer sync makes tmon's writer wait for each POST's reply before the next one (the
// default pipelines them, so the offered rate is the same for both servers).
//
// Binaries are looked up next to this one (ws_fanout_client, wspp_broadcast) and in
// ../examples (tmon-server). Targets for tmon: p99 <= 5 ms, points/s >= websocketpp's.
#include "clients/child_process.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct options {
    std::string seconds = "10";
    std::string rate = "1000";
    std::string clients = "100";
    std::string client_threads = "2";
    std::string writer = "pipelined";
    fs::path bin_dir;
    std::string server;
};

options parse_options(int argc, char** argv) {
    options o;
    o.bin_dir = fs::read_symlink("/proc/self/exe").parent_path();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--seconds") o.seconds = value;
        else if (flag == "--rate") o.rate = value;
        else if (flag == "--clients") o.clients = value;
        else if (flag == "--client-threads") o.client_threads = value;
        else if (flag == "--bin-dir") o.bin_dir = value;
        else if (flag == "--writer") o.writer = value;
        else if (flag == "--server") o.server = value;
        else throw std::runtime_error("unknown flag " + flag);
    }
    if (o.server.empty()) o.server = (o.bin_dir.parent_path() / "examples" / "tmon-server").string();
    return o;
}

using result = std::map<std::string, std::string>;

// Runs the client, echoes its report, and returns the key=value pairs of its RESULT line.
result run_client(const options& o, const std::string& target, int port) {
    const std::string command =
        fmt::format("'{}' --target {} --port {} --clients {} --rate {} --seconds {} --threads {} --writer {}",
                    (o.bin_dir / "ws_fanout_client").string(), target, port, o.clients, o.rate, o.seconds,
                    o.client_threads, o.writer);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    result fields;
    char line[4096];
    while (std::fgets(line, sizeof line, pipe)) {
        const std::string text = line;
        if (text.rfind("RESULT ", 0) != 0) {
            std::fputs(line, stdout);
            continue;
        }
        std::istringstream words(text.substr(7));
        for (std::string word; words >> word;)
            if (auto eq = word.find('='); eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    if (::pclose(pipe) != 0 || fields.empty()) throw std::runtime_error("ws_fanout_client failed against " + target);
    return fields;
}

double number(const result& r, const char* key) {
    auto it = r.find(key);
    return it == r.end() ? 0.0 : std::stod(it->second);
}

void print_row(const char* name, const result& r, const result& peer) {
    const auto ratio = [&](const char* key) {
        const double base = number(peer, key);
        return base > 0 ? number(r, key) / base : 0.0;
    };
    std::printf("%-22s %9.2f %9.2f %9.2f %12.0f %12.0f %8.0f %7.2fx %8.2fx\n", name, number(r, "p50_us") / 1000,
                number(r, "p99_us") / 1000, number(r, "max_us") / 1000, number(r, "msgs_per_s"), number(r, "delivered"),
                number(r, "send_rate"), ratio("p99_us"), ratio("msgs_per_s"));
}

}  // namespace

int main(int argc, char** argv) try {
    const options o = parse_options(argc, argv);
    const fs::path dir = fs::temp_directory_path() / fmt::format("tmon-bench-ws-{}", ::getpid());
    fs::create_directories(dir);
    struct cleanup {
        fs::path dir;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove_dir{dir};

    result wspp, tmon;
    {
        const int port = bench::free_port();
        bench::child_process server({(o.bin_dir / "wspp_broadcast").string(), "--port", std::to_string(port)},
                                    (dir / "wspp.log").string());
        bench::wait_until_ready("127.0.0.1", port);
        wspp = run_client(o, "wspp", port);
    }
    {
        const int port = bench::free_port();
        bench::child_process server({o.server, "--host", "127.0.0.1", "--port", std::to_string(port), "--storage",
                                     "sqlite", "--db", (dir / "tmon.db").string()},
                                    (dir / "tmon.log").string());
        bench::wait_until_ready("127.0.0.1", port, "/health");
        tmon = run_client(o, "tmon", port);
    }

    std::printf("\n%s clients, %s updates/s for %s s, %s tmon writer; latency = receive - send (CLOCK_MONOTONIC)\n",
                o.clients.c_str(), o.rate.c_str(), o.seconds.c_str(), o.writer.c_str());
    std::printf("%-22s %9s %9s %9s %12s %12s %8s %8s %9s\n", "server", "p50 ms", "p99 ms", "max ms", "points/s",
                "delivered", "sent/s", "p99 vs", "rate vs");
    print_row("websocketpp broadcast", wspp, wspp);
    print_row("tmon-server (sqlite)", tmon, wspp);
    // Both servers are held to the offered rate, so their points/s differ only by
    // when the last message landed: within 1 % is equal. (--rate 3000 saturates
    // the 2-core machine and shows which one delivers more.)
    const bool met = number(tmon, "p99_us") <= 5000 &&
                     number(tmon, "msgs_per_s") >= 0.99 * number(wspp, "msgs_per_s") &&
                     number(tmon, "delivered") >= number(tmon, "expected");
    std::printf(
        "\ntmon: delivered %s of %s (dropped %s); target p99 <= 5 ms and points/s >= websocketpp (within 1%%): %s\n",
        tmon["delivered"].c_str(), tmon["expected"].c_str(), tmon["dropped"].c_str(), met ? "met" : "MISSED");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ws_fanout: %s\n", e.what());
    return 1;
}
