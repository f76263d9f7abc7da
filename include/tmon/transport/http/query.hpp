#pragma once
// Query strings as decoded key/value pairs: "?status=running&q=res%20net&limit=5".
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tmon/transport/http/url.hpp"

namespace tmon::http {

class query_params {
public:
    // The first value of a repeated key wins; nullopt when the key is absent.
    std::optional<std::string_view> get(std::string_view name) const noexcept {
        for (const auto& [k, v] : pairs_)
            if (k == name) return std::string_view{v};
        return std::nullopt;
    }
    std::string_view get_or(std::string_view name, std::string_view fallback) const noexcept {
        auto v = get(name);
        return v ? *v : fallback;
    }
    bool has(std::string_view name) const noexcept { return get(name).has_value(); }
    // Every value of a repeated key, in order ("?run_id=a&run_id=b").
    std::vector<std::string_view> get_all(std::string_view name) const {
        std::vector<std::string_view> out;
        for (const auto& [k, v] : pairs_)
            if (k == name) out.push_back(v);
        return out;
    }
    const std::vector<std::pair<std::string, std::string>>& pairs() const noexcept { return pairs_; }
    std::size_t size() const noexcept { return pairs_.size(); }
    bool empty() const noexcept { return pairs_.empty(); }

    void add(std::string key, std::string value) { pairs_.emplace_back(std::move(key), std::move(value)); }

private:
    std::vector<std::pair<std::string, std::string>> pairs_;
};

// Malformed escapes are kept literally rather than failing the whole request:
// a query is read leniently, while the path (which routes) is strict.
inline query_params parse_query(std::string_view raw) {
    query_params out;
    auto decode = [](std::string_view s) {
        auto d = percent_decode(s, true);
        return d ? std::move(*d) : std::string{s};
    };
    while (!raw.empty()) {
        auto amp = raw.find('&');
        std::string_view pair = raw.substr(0, amp);
        raw.remove_prefix(amp == std::string_view::npos ? raw.size() : amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) out.add(decode(pair), std::string{});
        else out.add(decode(pair.substr(0, eq)), decode(pair.substr(eq + 1)));
    }
    return out;
}

}  // namespace tmon::http
