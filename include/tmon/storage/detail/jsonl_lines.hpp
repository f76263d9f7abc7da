#pragma once
// Reading a jsonl store's lines back: one parser reused line after line, and
// metrics lines parsed a chunk at a time, so a reopen can parse chunks on
// worker threads while it applies the ones before them in file order.
// Every line goes through detail/json_read.hpp (nesting cap, UTF-8 check):
// a file is as hostile as a request body, and one bad line costs that line only.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include <fmt/format.h>

#include "tmon/core/error.hpp"
#include "tmon/core/log.hpp"
#include "tmon/core/types.hpp"
#include "tmon/detail/json_read.hpp"
#include "tmon/detail/json_write.hpp"
#include "tmon/detail/record_codec.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/metric_lines.hpp"

namespace tmon::detail {

// A line nests the user's JSON (a config, a checkpoint's metadata: up to a
// request's max_json_depth levels) a few levels into its record: lines may
// nest twice that, still far from what would overflow the parser's stack.
inline constexpr unsigned max_line_depth = 2 * max_json_depth;

// Throws invalid_argument unless `line` reads back under the replay's rules.
// Records written through the C++ API skip the server's checks (a config that
// is not JSON, a name that is not UTF-8), and a line the replay skips would be
// an acknowledged write lost.
inline void check_line_reads_back(std::string_view line, std::string_view what) {
    rapidjson::BaseReaderHandler<> ignore;
    if (auto r = read_json(line, ignore, max_line_depth); !r)
        throw error(errc::invalid_argument,
                    fmt::format("cannot store {}: it would not read back ({})", what, r.message(max_line_depth)));
}

// A metrics line holds numbers and its key: the key is all there is to check.
inline void check_key_reads_back(std::string_view key) {
    for (unsigned char c : key) {
        if (c < 0x80) continue;
        std::string quoted;
        append_json_string(quoted, key);
        return check_line_reads_back(quoted, fmt::format("metric key {:?}", key));
    }
}

// What replaying one file skipped or read as defaults, told once per kind when
// the file is done (a damaged file of a million lines logs three lines, not a
// million), with the first instance so the user can find it.
struct replay_faults {
    std::size_t malformed = 0;  // lines that are not JSON objects
    std::string first_malformed;
    std::size_t skipped = 0;  // lines or points of no record this file holds
    std::string first_skipped;
    field_faults fields;      // fields of the wrong type, read as defaults
    std::size_t foreign = 0;  // records naming another run than their folder's, read as the folder's
    std::string first_foreign;

    void line_malformed(std::string why) {
        if (malformed++ == 0) first_malformed = std::move(why);
    }
    void record_skipped(std::string_view why, std::size_t n = 1) {
        if (n == 0) return;
        if (skipped == 0) first_skipped.assign(why);
        skipped += n;
    }
    void names_another_run(std::string_view run_id) {
        if (foreign++ == 0) first_foreign.assign(run_id);
    }
    void merge(const replay_faults& o) {
        if (malformed == 0) first_malformed = o.first_malformed;
        malformed += o.malformed;
        record_skipped(o.first_skipped, o.skipped);
        if (fields.count == 0) fields.first = o.fields.first;
        fields.count += o.fields.count;
        if (foreign == 0) first_foreign = o.first_foreign;
        foreign += o.foreign;
    }

    void report(const std::filesystem::path& file) const {
        if (malformed == 1)
            log(log_level::warn, "jsonl", "skipping a malformed line in {}: {}", file.string(), first_malformed);
        if (malformed > 1)
            log(log_level::warn, "jsonl", "skipping {} malformed lines in {} (the first: {})", malformed, file.string(),
                first_malformed);
        if (skipped == 1) log(log_level::warn, "jsonl", "skipping {} in {}", first_skipped, file.string());
        if (skipped > 1)
            log(log_level::warn, "jsonl", "skipping {} unreadable records in {} (the first: {})", skipped,
                file.string(), first_skipped);
        if (fields.count > 0)
            log(log_level::warn, "jsonl", "{} field{} of the wrong type in {} read as {} default{} (the first: '{}')",
                fields.count, fields.count == 1 ? "" : "s", file.string(), fields.count == 1 ? "its" : "their",
                fields.count == 1 ? "" : "s", fields.first);
        if (foreign > 0)
            log(log_level::warn, "jsonl",
                "{} record{} in {} name{} run {:?}, not the folder's: read as the folder's run", foreign,
                foreign == 1 ? "" : "s", file.string(), foreign == 1 ? "s" : "", first_foreign);
    }
};

class json_line_parser {
public:
    json_line_parser() : first_chunk_(64 << 10), pool_(first_chunk_.data(), first_chunk_.size()), doc_(&pool_) {}
    json_line_parser(const json_line_parser&) = delete;
    json_line_parser& operator=(const json_line_parser&) = delete;

    // `line` must be followed by a NUL (split_lines does that). The object the
    // line holds, valid until the next call, or nullptr for a line that is not
    // one (counted in `faults`, with why).
    const rapidjson::Value* parse(std::string_view line, replay_faults& faults) {
        pool_.Clear();  // else the pool keeps every line parsed (gigabytes for a long run)
        if (auto r = parse_document_nul_terminated(doc_, line.data(), max_line_depth); !r) {
            faults.line_malformed(r.message(max_line_depth));
            return nullptr;
        }
        if (!doc_.IsObject()) {
            faults.line_malformed("not a JSON object");
            return nullptr;
        }
        return &doc_;
    }

private:
    std::vector<char> first_chunk_;  // the pool's first chunk, kept: no malloc per line
    rapidjson::MemoryPoolAllocator<> pool_;
    rapidjson::Document doc_;
};

struct metric_line {
    std::string key;
    std::vector<series_point> points;
};

struct parsed_metric_lines {
    std::vector<metric_line> lines;  // in file order
    replay_faults faults;
};

inline parsed_metric_lines parse_metric_lines(std::span<char> text) {
    parsed_metric_lines out;
    json_line_parser parser;
    std::size_t bad_points = 0;
    split_lines(text, [&](std::string_view line) {
        const rapidjson::Value* v = parser.parse(line, out.faults);
        if (!v) return;
        metric_line m;
        if (!read_metric_line(*v, m.key, m.points, bad_points))
            return out.faults.record_skipped("a metrics line of no known shape");
        out.lines.push_back(std::move(m));
    });
    out.faults.record_skipped("a point whose step is not an integer or whose time or value is not a number",
                              bad_points);
    return out;
}

}  // namespace tmon::detail
