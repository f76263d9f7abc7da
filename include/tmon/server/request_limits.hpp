#pragma once
// What one request may ask the server to hold or store. Each limit has a flag
// in tmon-server (`--limit NAME=VALUE`) and a line in SECURITY.md; a request
// over a limit is refused whole (413 for sizes, 422 for fields), so nothing
// of it is stored.
#include <cstddef>
#include <string_view>

namespace tmon {

struct request_limits {
    unsigned json_depth = 64;                    // nesting of any JSON body or WS message -> 400
    std::size_t metrics_body_bytes = 64u << 20;  // POST .../metrics, the one bulk route -> 413
    std::size_t layers_body_bytes = 8u << 20;    // POST /api/v1/metrics/layerwise -> 413
    std::size_t small_body_bytes = 1u << 20;     // every other write (runs, checkpoints, commands) -> 413
    std::size_t name_bytes = 512;                // run names -> 422
    std::size_t key_bytes = 256;                 // metric keys and layer names -> 422
    std::size_t tag_bytes = 128;                 // each tag -> 422
    std::size_t tags = 64;                       // tags per run -> 422
    std::size_t text_bytes = 64u << 10;          // notes -> 422
    std::size_t path_bytes = 4096;               // checkpoint file paths -> 422
    std::size_t ws_subscriptions = 256;          // runs one WebSocket may subscribe to -> error message
    std::size_t concurrent_exports = 2;          // full-run exports being built at once -> 503
    std::size_t host_bytes = 255;                // a trainer's host name (X-Tmon-Host, "host") -> 400/422
    std::size_t type_bytes = 64;                 // event and command types -> 422
    std::size_t samples_per_post = 1000;         // system samples in one POST .../system -> 422
    std::size_t gpus_per_sample = 64;            // GPUs in one system sample -> 422
};

// Calls visit(member) for "json_depth" etc. (--limit NAME=VALUE); false for an unknown name.
template <class Limits, class Visit>
constexpr bool visit_limit(Limits& l, std::string_view name, Visit&& visit) {
    if (name == "json_depth") return visit(l.json_depth), true;
    if (name == "metrics_body_bytes") return visit(l.metrics_body_bytes), true;
    if (name == "layers_body_bytes") return visit(l.layers_body_bytes), true;
    if (name == "small_body_bytes") return visit(l.small_body_bytes), true;
    if (name == "name_bytes") return visit(l.name_bytes), true;
    if (name == "key_bytes") return visit(l.key_bytes), true;
    if (name == "tag_bytes") return visit(l.tag_bytes), true;
    if (name == "tags") return visit(l.tags), true;
    if (name == "text_bytes") return visit(l.text_bytes), true;
    if (name == "path_bytes") return visit(l.path_bytes), true;
    if (name == "ws_subscriptions") return visit(l.ws_subscriptions), true;
    if (name == "concurrent_exports") return visit(l.concurrent_exports), true;
    if (name == "host_bytes") return visit(l.host_bytes), true;
    if (name == "type_bytes") return visit(l.type_bytes), true;
    if (name == "samples_per_post") return visit(l.samples_per_post), true;
    if (name == "gpus_per_sample") return visit(l.gpus_per_sample), true;
    return false;
}

inline constexpr std::string_view request_limit_names =
    "json_depth, metrics_body_bytes, layers_body_bytes, small_body_bytes, name_bytes, key_bytes, tag_bytes, tags, "
    "text_bytes, path_bytes, ws_subscriptions, concurrent_exports, host_bytes, type_bytes, samples_per_post, "
    "gpus_per_sample";

}  // namespace tmon
