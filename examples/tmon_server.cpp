// tmon-server: the REST + WebSocket API and the dashboard over a store, for
// training scripts in any language.
//
//   tmon-server --storage sqlite --db runs.db --port 8000
//
// Flags win over the environment (TMON_HOST, TMON_PORT, TMON_STORAGE,
// TMON_DB_PATH, TMON_TOKEN). SIGINT/SIGTERM stop it cleanly: requests already
// accepted are answered and the store is flushed before exit.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <tmon/server.hpp>

namespace {

struct options {
    tmon::server_config server;
    std::string storage = "sqlite";
    tmon::log_level level = tmon::log_level::info;
};

constexpr const char* usage =
    "usage: tmon-server [--host ADDR] [--port N] [--storage sqlite|memory|jsonl] [--db PATH]\n"
    "                   [--token T] [--log-level debug|info|warn|error] [--static-dir DIR]\n"
    "                   [--threads N] [--workers N] [--cors-origin ORIGIN] [--sample-ms N]\n"
    "                   [--allowed-host NAME]... [--limit NAME=VALUE]...\n"
    "                   [--stale-after SECONDS] [--mark-stale-interrupted]\n"
    "\n"
    "  --host        address to listen on (TMON_HOST, default 127.0.0.1)\n"
    "  --port        port, 0 picks a free one (TMON_PORT, default 8000)\n"
    "  --storage     sqlite, memory or jsonl (TMON_STORAGE, default sqlite)\n"
    "  --db          sqlite file or jsonl folder (TMON_DB_PATH, default tmon.db)\n"
    "  --token       require Authorization: Bearer T or ?token=T (TMON_TOKEN)\n"
    "  --static-dir  serve the dashboard from this folder instead of the embedded build\n"
    "  --sample-ms   system sampling period in ms, 0 disables (default 1000)\n"
    "  --cors-origin the one other web origin allowed to call the API (default: none)\n"
    "  --allowed-host  a name besides the bound address and localhost that requests may\n"
    "                use in Host (a reverse proxy's name); repeat or comma-separate\n"
    "                (TMON_ALLOWED_HOSTS)\n"
    "  --limit       change a request limit, e.g. --limit small_body_bytes=4194304; names:\n"
    "                see SECURITY.md\n"
    "  --stale-after a running run whose trainer sent nothing for this many seconds is shown\n"
    "                as stale (a run_stale event and WS message); 0 disables (default 120)\n"
    "  --mark-stale-interrupted  turn such a run's status to interrupted instead\n"
    "  --max-connections N            connection cap, also kept under the open-file limit\n"
    "                                 less --fd-reserve; 0: that limit only (default 1024)\n"
    "  --max-connections-per-client N connections one address may hold, 0: no cap (default 256)\n"
    "  --send-timeout-ms N            close a client whose writes make no progress (default 30000)\n"
    "  --busy-idle-timeout-ms N       keep-alive idle timeout when over 3/4 of the connection cap\n"
    "                                 is in use (default 5000)\n"
    "  --max-inflight-body-mb N       request bodies buffered at once, all clients (default 256)\n"
    "  --max-queued-response-mb N     answered-but-unread bytes per connection (default 8)\n"
    "  --fd-reserve N                 descriptors kept for the store's files (default 64)\n";

struct bad_flag {
    std::string message;
};

unsigned long parse_number(std::string_view flag, std::string_view text, unsigned long max) {
    std::string s(text);
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || v > max || s.front() == '-')
        throw bad_flag{fmt::format("{} expects a number up to {}, got '{}'", flag, max, text)};
    return v;
}

std::optional<tmon::log_level> parse_level(std::string_view s) {
    if (s == "debug") return tmon::log_level::debug;
    if (s == "info") return tmon::log_level::info;
    if (s == "warn") return tmon::log_level::warn;
    if (s == "error") return tmon::log_level::error;
    return std::nullopt;
}

void apply(options& o, std::string_view flag, std::string_view value) {
    if (flag == "--host") o.server.host = value;
    else if (flag == "--port") o.server.port = static_cast<std::uint16_t>(parse_number(flag, value, 65535));
    else if (flag == "--storage") {
        if (value != "sqlite" && value != "memory" && value != "jsonl")
            throw bad_flag{fmt::format("--storage must be sqlite, memory or jsonl, got '{}'", value)};
        o.storage = value;
    } else if (flag == "--db") {
        if (value.empty()) throw bad_flag{"--db must name a file (sqlite) or a folder (jsonl), got an empty path"};
        o.server.db_path = value;
    } else if (flag == "--allowed-host") {
        for (std::string_view rest = value; !rest.empty();) {
            auto comma = rest.find(',');
            if (auto name = rest.substr(0, comma); !name.empty()) o.server.allowed_hosts.emplace_back(name);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    } else if (flag == "--limit") {
        auto eq = value.find('=');
        auto name = value.substr(0, eq);
        bool known = eq != std::string_view::npos && tmon::visit_limit(o.server.requests, name, [&](auto& member) {
                         member = static_cast<std::remove_reference_t<decltype(member)>>(parse_number(
                             fmt::format("--limit {}", name), value.substr(eq + 1),
                             name == "json_depth" ? 1000ul : 1ul << 40));  // deeper would risk the parser's stack
                     });
        if (!known)
            throw bad_flag{fmt::format("--limit expects NAME=VALUE with NAME one of {}, got '{}'",
                                       tmon::request_limit_names, value)};
    } else if (flag == "--stale-after")
        o.server.liveness.stale_after_s = static_cast<double>(parse_number(flag, value, 10'000'000));
    else if (flag == "--token") o.server.token = value;
    else if (flag == "--static-dir") o.server.static_dir = value;
    else if (flag == "--cors-origin") o.server.cors_origin = value;
    else if (flag == "--threads") o.server.threads = static_cast<unsigned>(parse_number(flag, value, 256));
    else if (flag == "--workers") o.server.workers = static_cast<unsigned>(parse_number(flag, value, 256));
    else if (flag == "--sample-ms")
        o.server.sample_period = std::chrono::milliseconds(parse_number(flag, value, 86'400'000));
    else if (flag == "--max-connections") o.server.limits.max_connections = parse_number(flag, value, 1ul << 24);
    else if (flag == "--max-connections-per-client")
        o.server.limits.max_connections_per_client = parse_number(flag, value, 1ul << 24);
    else if (flag == "--send-timeout-ms")
        o.server.limits.send_timeout = std::chrono::milliseconds(parse_number(flag, value, 86'400'000));
    else if (flag == "--busy-idle-timeout-ms")
        o.server.limits.busy_idle_timeout = std::chrono::milliseconds(parse_number(flag, value, 86'400'000));
    else if (flag == "--max-inflight-body-mb")
        o.server.limits.max_inflight_body_bytes = parse_number(flag, value, 1ul << 20) << 20;
    else if (flag == "--max-queued-response-mb")
        o.server.limits.max_queued_response_bytes = parse_number(flag, value, 1ul << 20) << 20;
    else if (flag == "--fd-reserve") o.server.limits.fd_reserve = parse_number(flag, value, 1ul << 20);
    else if (flag == "--log-level") {
        auto l = parse_level(value);
        if (!l) throw bad_flag{fmt::format("--log-level must be debug, info, warn or error, got '{}'", value)};
        o.level = *l;
    } else throw bad_flag{fmt::format("unknown flag '{}'", flag)};
}

void apply_environment(options& o) {
    const std::pair<const char*, const char*> env[] = {
        {"TMON_HOST", "--host"},  {"TMON_PORT", "--port"},   {"TMON_STORAGE", "--storage"},
        {"TMON_DB_PATH", "--db"}, {"TMON_TOKEN", "--token"}, {"TMON_ALLOWED_HOSTS", "--allowed-host"}};
    for (auto [name, flag] : env)
        if (const char* v = std::getenv(name); v && *v) {
            try {
                apply(o, flag, v);
            } catch (const bad_flag& e) {
                throw bad_flag{fmt::format("{} (from {})", e.message, name)};
            }
        }
}

// Returns false when --help was asked for.
bool parse_args(options& o, int argc, char** argv) {
    apply_environment(o);
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return false;
        if (arg == "--mark-stale-interrupted") {  // the one flag without a value
            o.server.liveness.mark_stale_interrupted = true;
            continue;
        }
        std::string_view value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else {
            if (i + 1 >= argc) throw bad_flag{fmt::format("{} needs a value", arg)};
            value = argv[++i];
        }
        apply(o, arg, value);
    }
    return true;
}

template <class Store>
int serve(const options& o) {
    tmon::server<Store> srv{o.server};
    std::printf("tmon-server %s serving %s (storage: %s, db: %s)\n", tmon::version_string, srv.url().c_str(),
                o.storage.c_str(), o.storage == "memory" ? "-" : o.server.db_path.c_str());
    std::fflush(stdout);
    int sig = srv.wait();  // SIGINT or SIGTERM; shutdown then runs here, on the main thread
    tmon::log(tmon::log_level::info, "tmon-server", "signal {} received, shutting down", sig);
    srv.stop();
    tmon::log(tmon::log_level::info, "tmon-server", "stopped; store flushed");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Held from the start until srv.wait() takes them (in every thread: the
    // server's inherit the mask), so a SIGTERM sent while the server starts,
    // or as soon as it printed "serving", still stops it cleanly.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
#if defined(__GLIBC__)
    // A fixed threshold: buffers of 256 KiB and up (answer queues, bodies) are
    // mapped and unmapped, so memory a burst of big clients took goes back to
    // the system when they leave. glibc's default raises the threshold after
    // the first such free and keeps the next bursts in the heap for good.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif

    options o;
    try {
        if (!parse_args(o, argc, argv)) {
            std::fputs(usage, stdout);
            return 0;
        }
    } catch (const bad_flag& e) {
        std::fprintf(stderr, "tmon-server: %s\n\n%s", e.message.c_str(), usage);
        return 2;
    }
    tmon::set_log_level(o.level);

    try {
        if (o.storage == "memory") return serve<tmon::memory_store>(o);
        if (o.storage == "jsonl") return serve<tmon::jsonl_store>(o);
        return serve<tmon::sqlite_store>(o);
    } catch (const tmon::error& e) {
        std::fprintf(stderr, "tmon-server: cannot start (%s storage at '%s', %s:%u): %s\n", o.storage.c_str(),
                     o.server.db_path.c_str(), o.server.host.c_str(), o.server.port, e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tmon-server: cannot start: %s\n", e.what());
        return 2;
    }
}
