#pragma once
// How a remote trainer reaches tmon-server, and how hard it tries. Every
// field has a default; empty strings and -1 are filled from the environment
// (TMON_URL, TMON_TOKEN, TMON_RUN_ID, TMON_RANK or RANK, TMON_JOURNAL_DIR),
// so a launcher can hand them to every rank without code changes.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace tmon {

struct http_client_options {
    std::string url{};     // "http://host:8080"; default $TMON_URL, else http://127.0.0.1:8080
    std::string token{};   // bearer token; default $TMON_TOKEN
    std::string run_id{};  // default $TMON_RUN_ID, else "run_" + 12 random hex digits
    std::string host{};    // reported host name; default gethostname()
    int rank = -1;         // default $TMON_RANK, else $RANK, else 0
    // Where the journal lives; default $TMON_JOURNAL_DIR, else
    // $XDG_CACHE_HOME/tmon/journal, else ~/.cache/tmon/journal.
    std::filesystem::path journal_dir{};
    // Unsent data the journal may hold; past it points are dropped and counted.
    std::uint64_t journal_max_bytes = 1ull << 30;

    // The sender posts when this many points wait, or this long after the last post.
    std::size_t batch_points = 4096;
    std::chrono::milliseconds batch_interval{1000};
    std::chrono::milliseconds heartbeat_interval{10'000};
    std::chrono::milliseconds command_poll_interval{2000};
    std::chrono::milliseconds request_timeout{10'000};
    // Retry delays on a failed post: backoff_min doubling up to backoff_max, +-20 % jitter.
    std::chrono::milliseconds backoff_min{1000};
    std::chrono::milliseconds backoff_max{30'000};
    // How long the client's destructor keeps sending what is left. The rest
    // stays in the journal for the next trainer with the same run id and rank.
    std::chrono::milliseconds drain_timeout{10'000};
    // Only rank 0 reports metrics unless this is set (ranks log the same keys).
    bool metrics_from_all_ranks = false;
};

// What the client has done so far; any thread may read it at any time.
struct http_client_stats {
    std::uint64_t sent_points = 0;  // acknowledged by the server
    std::uint64_t sent_requests = 0;
    std::uint64_t queued_points = 0;     // in the journal, not acknowledged yet
    std::uint64_t journal_bytes = 0;     // unacknowledged journal size
    std::uint64_t dropped_points = 0;    // refused because the journal was full
    std::uint64_t rejected_records = 0;  // refused by the server as invalid (4xx), not retried
    std::uint64_t retries = 0;
    bool connected = false;  // the last exchange with the server succeeded
    std::string last_error{};
};

}  // namespace tmon
