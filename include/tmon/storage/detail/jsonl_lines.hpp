#pragma once
// Reading a jsonl store's lines back: one parser reused line after line, and
// metrics lines parsed a chunk at a time, so a reopen can parse chunks on
// worker threads while it applies the ones before them in file order.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "tmon/core/types.hpp"
#include "tmon/storage/detail/append_file.hpp"
#include "tmon/storage/detail/metric_lines.hpp"

namespace tmon::detail {

class json_line_parser {
public:
    json_line_parser() : first_chunk_(64 << 10), pool_(first_chunk_.data(), first_chunk_.size()), doc_(&pool_) {}
    json_line_parser(const json_line_parser&) = delete;
    json_line_parser& operator=(const json_line_parser&) = delete;

    // `line` must be followed by a NUL (split_lines does that). The object the
    // line holds, valid until the next call, or nullptr for a line that is not one.
    const rapidjson::Value* parse(std::string_view line) {
        pool_.Clear();  // else the pool keeps every line parsed (gigabytes for a long run)
        doc_.Parse<rapidjson::kParseFullPrecisionFlag>(line.data());
        if (doc_.HasParseError() || !doc_.IsObject()) return nullptr;
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
    std::size_t malformed = 0;       // not JSON objects
    std::size_t unknown_shape = 0;   // objects, but no metrics line of a known shape
};

inline parsed_metric_lines parse_metric_lines(std::span<char> text) {
    parsed_metric_lines out;
    json_line_parser parser;
    split_lines(text, [&](std::string_view line) {
        const rapidjson::Value* v = parser.parse(line);
        if (!v) return void(++out.malformed);
        metric_line m;
        if (!read_metric_line(*v, m.key, m.points)) return void(++out.unknown_shape);
        out.lines.push_back(std::move(m));
    });
    return out;
}

}  // namespace tmon::detail
