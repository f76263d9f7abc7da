#pragma once
// A recorder that reports to a tmon-server over HTTP, so a trainer in another
// process, on another node or in another rank uses the same monitor:
//
//   tmon::http_client client{{.url = "http://gpu-box:8080"}};   // or TMON_URL
//   tmon::monitor mon{client, {.run_name = "resnet"}};
//   mon.log(step, {{"loss", loss}});                           // still ~20 ns, never blocks
//
// Every write goes to a local journal first (detail/journal.hpp) and a
// background sender posts it (detail/sender.hpp). A write returns once
// journaled: with the server down the trainer keeps training, the journal
// fills, and everything is sent when the server is back. Replays are
// idempotent (client-chosen run, checkpoint and event ids; (key, step) points
// last-write-wins), so nothing is lost and nothing is stored twice.
//
// Reads the monitor needs (resume, the final status check) go to the server
// synchronously and fall back to what the client knows when it is down.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tmon/client/client_options.hpp"
#include "tmon/client/detail/client_connection.hpp"
#include "tmon/client/detail/journal.hpp"
#include "tmon/client/detail/sender.hpp"
#include "tmon/client/detail/wire.hpp"
#include "tmon/core/clock.hpp"
#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/ids.hpp"
#include "tmon/transport/http/url.hpp"
#include "tmon/version.hpp"

namespace tmon {

namespace detail {

inline std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

inline std::filesystem::path default_journal_dir() {
    if (const char* d = std::getenv("TMON_JOURNAL_DIR"); d && *d) return d;
    if (const char* c = std::getenv("XDG_CACHE_HOME"); c && *c) return std::filesystem::path(c) / "tmon" / "journal";
    if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "tmon" / "journal";
    return std::filesystem::temp_directory_path() / "tmon-journal";
}

inline int rank_from_env() {
    for (const char* name : {"TMON_RANK", "RANK"}) {
        const char* v = std::getenv(name);
        if (!v || !*v) continue;
        char* end = nullptr;
        long r = std::strtol(v, &end, 10);
        if (*end != '\0' || r < 0 || r > 65535)
            throw error(errc::invalid_argument,
                        std::string("tmon: ") + name + " must be a rank between 0 and 65535, got '" + v + "'");
        return static_cast<int>(r);
    }
    return 0;
}

inline std::string this_host() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

// Ids travel in URL paths: only what the server accepts as an id.
inline void check_id(std::string_view id, const char* what) {
    bool ok = !id.empty() && id.size() <= 128;
    for (char c : id)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.');
    if (!ok)
        throw error(errc::invalid_argument, std::string("tmon: ") + what +
                                                " must be 1-128 letters, digits, '_', '-' or '.', got '" +
                                                std::string(id) + "'");
}

inline http_client_options resolve(http_client_options o) {
    if (o.url.empty()) o.url = env_or("TMON_URL", "http://127.0.0.1:8080");
    if (o.token.empty()) o.token = env_or("TMON_TOKEN", "");
    if (o.run_id.empty()) o.run_id = env_or("TMON_RUN_ID", "");
    if (o.host.empty()) o.host = this_host();
    if (o.rank < 0) o.rank = rank_from_env();
    if (o.journal_dir.empty()) o.journal_dir = default_journal_dir();
    o.batch_points = std::max<std::size_t>(o.batch_points, 1);
    server_url::parse(o.url);  // fail now, with the URL in the message, not in the sender
    if (!o.run_id.empty()) check_id(o.run_id, "the run id");
    return o;
}

}  // namespace detail

class http_client {
public:
    explicit http_client(http_client_options opts = {}) : opts_(detail::resolve(std::move(opts))) {
        headers_.push_back({"User-Agent", std::string("tmon-cpp/") + std::string(version_string)});
        headers_.push_back({"X-Tmon-Host", opts_.host});
        headers_.push_back({"X-Tmon-Rank", std::to_string(opts_.rank)});
        if (!opts_.token.empty()) headers_.push_back({"Authorization", "Bearer " + opts_.token});
        explicit_run_id_ = !opts_.run_id.empty();
        if (opts_.run_id.empty()) opts_.run_id = detail::make_id("run");
    }

    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    // Sends what is left for up to drain_timeout; the rest stays journaled.
    ~http_client() { sender_.reset(); }

    // ---- the recorder interface (what monitor<http_client> calls) -----------
    run_info create_run(const new_run& r) {
        std::string id = r.id.value_or(opts_.run_id);
        detail::check_id(id, "the run id");
        bind(id);
        {
            std::lock_guard lock(mutex_);
            run_.id = id;
            run_.name = r.name;
            run_.status = r.status;
            run_.config_json = r.config_json;
            run_.tags = r.tags;
            run_.notes = r.notes;
            run_.total_steps = r.total_steps;
            run_.start_time = run_.created_at = run_.updated_at = now_seconds();
        }
        if (opts_.rank == 0) {
            new_run with_id = r;
            with_id.id = id;
            journal_request("POST", "/api/runs", detail::wire::new_run_body(with_id));
        } else if (!explicit_run_id_) {
            throw error(
                errc::invalid_argument,
                fmt::format("tmon: rank {} reports into rank 0's run: give it the run id (TMON_RUN_ID)", opts_.rank));
        }
        return local_run();
    }

    std::optional<run_info> get_run(std::string_view id) {
        if (auto r = fetch_run(id)) return r;
        std::lock_guard lock(mutex_);
        if (id == run_.id) return run_;
        return std::nullopt;
    }

    // Needs the server (there is no local copy of other runs).
    run_page list_runs(const run_query& q) {
        std::string path = "/api/runs?limit=" + std::to_string(std::clamp<std::size_t>(q.limit, 1, 1000)) +
                           "&offset=" + std::to_string(q.offset) + "&q=" + http::percent_encode(q.name_contains) +
                           "&tag=" + http::percent_encode(q.tag) + "&sort=" + std::string(to_string(q.sort));
        if (q.status) path += "&status=" + std::string(to_string(*q.status));
        auto resp = get(path);
        if (!resp || resp->status != 200)
            throw error(errc::unavailable, "tmon: cannot list runs: the server at " + opts_.url + " did not answer");
        run_page page;
        page.runs = detail::wire::read_list<run_info>(resp->body, "runs", detail::wire::read_run);
        page.total = detail::wire::total_of(resp->body, page.runs.size());
        return page;
    }

    run_info update_run(std::string_view id, const run_update& u) {
        if (opts_.rank == 0) journal_request("PUT", "/api/runs/" + std::string(id), detail::wire::run_update_body(u));
        std::lock_guard lock(mutex_);
        if (id != run_.id) return run_info{.id = std::string(id)};
        if (u.name) run_.name = *u.name;
        if (u.status) {
            run_.status = *u.status;
            if (is_terminal(*u.status)) run_.end_time = now_seconds();
        }
        if (u.config_json) run_.config_json = *u.config_json;
        if (u.tags) run_.tags = *u.tags;
        if (u.notes) run_.notes = *u.notes;
        if (u.total_steps) run_.total_steps = *u.total_steps;
        run_.updated_at = now_seconds();
        return run_;
    }

    void append_metrics(std::string_view run_id, std::span<const metric_point> points) {
        if (points.empty() || (opts_.rank != 0 && !opts_.metrics_from_all_ranks)) return;
        std::string body;
        std::uint32_t n = detail::wire::append_points(body, points);
        std::string path = "/api/runs/" + std::string(run_id) + "/metrics";
        if (!journal().append(detail::journal_kind::metrics, "POST", path, body, n)) return note_dropped(n);
        sender_->notify_batch();
    }

    checkpoint_info add_checkpoint(const new_checkpoint& c) {
        new_checkpoint with_id = c;
        if (!with_id.id || with_id.id->empty()) with_id.id = detail::make_id("ckpt");
        journal_request("POST", "/api/runs/" + c.run_id + "/checkpoints", detail::wire::checkpoint_body(with_id));
        checkpoint_info info;
        info.id = *with_id.id;
        info.run_id = c.run_id;
        info.filepath = c.filepath;
        info.step = c.step;
        info.metrics_json = c.metrics_json;
        info.metadata_json = c.metadata_json;
        info.is_best = c.is_best;
        info.created_at = now_seconds();
        return info;
    }

    // The server's list when it answers, else none (logged).
    std::vector<checkpoint_info> list_checkpoints(std::string_view run_id) {
        auto resp = get("/api/runs/" + std::string(run_id) + "/checkpoints");
        if (!resp || resp->status != 200) {
            tmon::log(log_level::warn, "client", "run {}: cannot list checkpoints, the server did not answer", run_id);
            return {};
        }
        return detail::wire::read_list<checkpoint_info>(resp->body, "checkpoints", detail::wire::read_checkpoint);
    }

    checkpoint_info mark_best(std::string_view checkpoint_id) {
        detail::check_id(checkpoint_id, "the checkpoint id");
        journal_request("POST", "/api/checkpoints/" + std::string(checkpoint_id) + "/mark_best", "{}");
        checkpoint_info info;
        info.id = std::string(checkpoint_id);
        info.run_id = run_id();
        info.is_best = true;
        return info;
    }

    // Samples of the machine the trainer runs on, tagged with host and rank.
    void append_system(const system_sample& s) {
        if (!journal_ok()) return;  // sampled before the run exists
        journal_droppable("/api/runs/" + run_id() + "/system", detail::wire::system_body(s, opts_.host, opts_.rank));
    }

    void append_layers(const layer_snapshot& snap) {
        journal_droppable("/api/v1/metrics/layerwise", detail::wire::layers_body(snap));
    }

    event append_event(const event& e) {
        event out = e;
        if (out.time == 0) out.time = now_seconds();
        journal_request("POST", "/api/runs/" + (e.run_id.empty() ? run_id() : e.run_id) + "/events",
                        detail::wire::event_body(detail::make_id("evt"), out));
        return out;
    }

    // Commands the sender fetched since the last call; each is acknowledged
    // to the server (an event in the run's log) as it is handed out.
    std::vector<command> poll_commands(std::string_view run_id, std::int64_t after_id) {
        if (!sender_) return {};
        auto commands = sender_->take_commands(after_id);
        for (const auto& c : commands)
            journal_request("POST", fmt::format("/api/runs/{}/commands/{}/ack", run_id, c.id),
                            detail::wire::ack_body("ok", "received by the training loop"));
        return commands;
    }

    // ---- for monitor::resume_or_create ----------------------------------------
    // With a run id given (options or TMON_RUN_ID) that run is continued: it
    // exists on the server, or this machine's journal holds its unsent start.
    // Otherwise the newest unfinished run with this name on the server.
    std::optional<run_info> resume_target(const std::string& name) {
        if (explicit_run_id_) {
            auto remote = fetch_run(opts_.run_id);
            if (remote) {
                bind(remote->id);
                std::lock_guard lock(mutex_);
                run_ = *remote;
                return remote;
            }
            bind(opts_.run_id);
            if (journal().recovered_records() == 0) return std::nullopt;
            std::lock_guard lock(mutex_);
            run_.id = opts_.run_id;
            run_.name = name;
            run_.status = run_status::interrupted;  // the monitor turns it back to running
            return run_;
        }
        try {
            run_query q;
            q.name_contains = name;
            for (auto& r : list_runs(q).runs)
                if (r.name == name && r.status != run_status::completed && r.status != run_status::cancelled) {
                    bind(r.id);
                    std::lock_guard lock(mutex_);
                    run_ = r;
                    return r;
                }
        } catch (const error& e) {
            tmon::log(log_level::warn, "client", "{}; starting a new run", e.what());
        }
        return std::nullopt;
    }

    // ---- for callers ------------------------------------------------------------
    http_client_stats stats() const {
        if (!sender_) return {};
        return sender_->stats();
    }
    // Blocks until the server acknowledged everything journaled so far.
    bool wait_sent(std::chrono::milliseconds timeout) { return !sender_ || sender_->wait_sent(timeout); }
    std::string run_id() const {
        std::lock_guard lock(mutex_);
        return run_.id.empty() ? opts_.run_id : run_.id;
    }
    const http_client_options& options() const noexcept { return opts_; }

private:
    // Opens the run's journal (replaying what an earlier process left) and
    // starts the sender. Once per client: one client reports one run.
    void bind(const std::string& id) {
        std::lock_guard lock(bind_mutex_);
        if (journal_) {
            if (bound_id_ != id)
                throw error(errc::invalid_argument,
                            "tmon: an http_client reports one run; create another client for run " + id);
            return;
        }
        journal_ = std::make_unique<detail::journal>(opts_.journal_dir, fmt::format("{}.r{}", id, opts_.rank),
                                                     opts_.journal_max_bytes);
        bound_id_ = id;
        sender_ = std::make_unique<detail::sender>(*journal_, opts_, id, headers_);
    }

    detail::journal& journal() {
        if (!journal_) throw error(errc::invalid_argument, "tmon: http_client used before create_run");
        return *journal_;
    }
    bool journal_ok() const noexcept { return journal_ != nullptr; }

    void journal_request(std::string_view method, const std::string& path, const std::string& body) {
        if (!journal().append(detail::journal_kind::request, method, path, body, 0)) {
            note_dropped(0);
            throw error(errc::unavailable, "tmon: the local journal is full (" +
                                               std::to_string(opts_.journal_max_bytes >> 20) +
                                               " MiB unsent); the server has been unreachable too long");
        }
        sender_->mark_urgent();
    }

    // Samples and layer statistics: dropped (counted) when the journal is full.
    void journal_droppable(const std::string& path, const std::string& body) {
        if (!journal().append(detail::journal_kind::request, "POST", path, body, 0)) return note_dropped(0);
        sender_->notify_batch();
    }

    void note_dropped(std::uint64_t points) {
        if (sender_) sender_->note_dropped(points);
        if (!journal_full_warned_.exchange(true))
            tmon::log(log_level::warn, "client",
                      "run {}: the local journal is full ({} MiB unsent); dropping points until the "
                      "server takes some",
                      run_id(), opts_.journal_max_bytes >> 20);
    }

    std::optional<http::received_response> get(const std::string& path) {
        try {
            detail::client_connection c(detail::server_url::parse(opts_.url),
                                        std::min(opts_.request_timeout, std::chrono::milliseconds(3000)), headers_);
            return c.send("GET", path);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    std::optional<run_info> fetch_run(std::string_view id) {
        auto resp = get("/api/runs/" + std::string(id));
        if (!resp || resp->status != 200) return std::nullopt;
        auto doc = detail::wire::parse(resp->body);
        if (!doc) return std::nullopt;
        return detail::wire::read_run(*doc);
    }

    run_info local_run() const {
        std::lock_guard lock(mutex_);
        return run_;
    }

    http_client_options opts_;
    std::vector<http::header> headers_;
    bool explicit_run_id_ = false;

    std::mutex bind_mutex_;
    std::string bound_id_;
    std::unique_ptr<detail::journal> journal_;
    std::unique_ptr<detail::sender> sender_;  // after journal_: stops first

    mutable std::mutex mutex_;
    run_info run_;
    std::atomic<bool> journal_full_warned_{false};
};

}  // namespace tmon
