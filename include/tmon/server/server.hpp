#pragma once
// tmon::server: the REST API, the live WebSocket and the dashboard over any
// Storage, on any Transport, sampling the machine with any Sampler.
//
//   tmon::server<tmon::sqlite_store> srv{{.db_path = "runs.db", .port = 8000}};
//   auto run = srv.start_run("resnet", R"({"lr":0.1})");
//   run.log(step, {{"loss", loss}});
//
// Constructing it starts serving on background threads; the destructor stops.
// Threads: the transport's io threads parse HTTP, route and check auth, and
// answer what memory holds (health, version, cached latest metric values);
// request bodies are read and every store call runs on a small work pool (one
// exception: a WebSocket subscribe checks on the io thread that the run
// exists), and the response is sent from there once the call returned (a 2xx
// write is in the store), before the write's live events are fanned out. The
// sampler and a housekeeping tick run on their own threads. Writes made to the
// store directly, bypassing the server (srv.store().append_metrics), are
// neither pushed live nor seen by the latest-values cache: write through the
// server, its recorder or a monitor.
//
// The embedding program can add its own REST routes (get/post/put/del) and
// block its main thread until Ctrl-C or SIGTERM (wait):
//
//   srv.get("/api/ext/queue", [&](const tmon::api_request&) { return tmon::json_response(R"({"jobs":3})"); });
//   srv.wait();  // SIGINT, SIGTERM or srv.stop(); the destructor then stops and flushes
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tmon/monitor/monitor.hpp"
#include "tmon/sampler/sampler_concept.hpp"
#include "tmon/sampler/system_sampler.hpp"
#include "tmon/server/api/api_request.hpp"
#include "tmon/server/server_config.hpp"
#include "tmon/server/server_recorder.hpp"
#include "tmon/storage/storage_concept.hpp"

namespace tmon {

class asio_transport;

namespace detail {
template <class Store, class Transport, class Sampler>
class server_impl;  // server_impl.hpp
}  // namespace detail

// Unconstrained on purpose: the assert_* checks below name the missing member,
// where a concept in the template head would fail first with template noise.
// (The transport's is in server_impl: its header stays out of a TU that only
// declares the server.)
template <class Store, class Transport = asio_transport, class Sampler = system_sampler>
class server {
    static_assert(assert_storage<Store>());
    static_assert(assert_sampler<Sampler>());

public:
    using store_type = Store;
    using recorder_type = server_recorder<Store>;
    using run_monitor = monitor<recorder_type>;

    // Every member is defined in server_impl.hpp, out of this header: with
    // TMON_SEPARATE_COMPILATION a TU that runs a server parses its declaration
    // only (no Asio, no RapidJSON, no routes), and src/server*.cpp compile it.

    // Owns a store built from the config (db_path) and starts serving.
    explicit server(server_config config = {});

    // Serves a store the caller owns (and keeps alive longer than the server).
    server(Store& store, server_config config);

    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server();

    std::uint16_t port() const;
    std::string url() const;
    Store& store() noexcept;
    const server_config& config() const noexcept;
    std::size_t ws_connections() const;

    // A monitor whose writes reach WS subscribers too. Destroy it before the server.
    run_monitor start_run(std::string name, std::string config_json = "{}", monitor_options opts = {});
    run_monitor resume_or_create(monitor_options opts);
    recorder_type& recorder() noexcept;

    // ---- the embedding program's own routes ---------------------------------
    // srv.get("/api/ext/jobs/{id}", handler, tmon::accepts{"verbose"}) answers
    // GET (and HEAD) on that pattern ("{name}" one segment, "{name...}" the
    // rest) from the next request on; routes may be added at any time, from
    // any thread. They take the API's token and pass the same Host and Origin
    // checks; a query parameter not named in `query` (string literals: they are
    // kept as views) is a 400. tmon's own routes (docs/API.md), "/" and "/ws"
    // stay tmon's: a pattern one of them would answer throws
    // std::invalid_argument, as does the same method and pattern twice.
    // Bodies: up to request_limits::small_body_bytes (1 MiB by default).
    server& get(std::string_view pattern, user_handler h, accepts query = {});
    server& post(std::string_view pattern, user_handler h, accepts query = {});
    server& put(std::string_view pattern, user_handler h, accepts query = {});
    server& del(std::string_view pattern, user_handler h, accepts query = {});

    // Blocks until SIGINT or SIGTERM arrives (returns its number) or stop()
    // has run on another thread (returns 0); the program then shuts down as it
    // likes (the destructor stops and flushes). Only while it blocks does tmon
    // take the two signals, even where the program blocked them: the program's
    // own handlers are put back on return, so a second Ctrl-C does what it did
    // before (by default: ends the process). One signal wakes every waiter. A
    // program that handles the signals itself does without wait() and calls
    // stop() once its handling says so (never inside a signal handler).
    int wait();

    // Answers what was accepted, stops listening, flushes the store. Idempotent;
    // a second caller returns once the first one has finished. Not from a handler.
    void stop();

private:
    std::unique_ptr<detail::server_impl<Store, Transport, Sampler>> impl_;
};

}  // namespace tmon

// The definitions: in every TU, unless TMON_SEPARATE_COMPILATION leaves them to
// src/server*.cpp (a TU running a server over its own types includes
// tmon/server/server_impl.hpp itself).
#if !defined(TMON_SEPARATE_COMPILATION)
#include "tmon/server/server_impl.hpp"
#endif
