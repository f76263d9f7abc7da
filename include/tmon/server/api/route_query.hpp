#pragma once
// A route's query string, checked against the names the route declares:
//   t.get("/api/runs", list_runs<Store>, accepts{"status", "q", "limit"});
// A request naming anything else, or one name twice, is a 400 that says so
// before the handler runs, so a mistyped `?limt=5` never silently returns the
// default. `token` (authentication) is accepted everywhere. A handler reading
// a name its route did not declare is a bug in tmon: it fails loudly (500)
// where the tests see it, instead of reading a parameter no client may send.
#include <algorithm>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tmon/server/http_error.hpp"
#include "tmon/transport/http/loggable.hpp"
#include "tmon/transport/http/query.hpp"

namespace tmon {

// The query parameters a route takes; names are string literals.
struct accepts {
    std::vector<std::string_view> names;
    accepts() = default;
    accepts(std::initializer_list<std::string_view> n) : names(n) {}
    bool has(std::string_view name) const noexcept {
        return name == "token" || std::find(names.begin(), names.end(), name) != names.end();
    }
};

class route_query {
public:
    route_query() = default;
    route_query(http::query_params params, const accepts* accepted) : params_(std::move(params)), accepted_(accepted) {}

    std::optional<std::string_view> get(std::string_view name) const {
        require_declared(name);
        return params_.get(name);
    }
    std::string_view get_or(std::string_view name, std::string_view fallback) const {
        auto v = get(name);
        return v ? *v : fallback;
    }
    bool has(std::string_view name) const { return get(name).has_value(); }

    // Throws a 400 naming the first parameter the route does not take or that comes twice.
    void check(std::string_view method, std::string_view pattern) const {
        const auto& pairs = params_.pairs();
        for (auto it = pairs.begin(); it != pairs.end(); ++it) {
            const std::string& name = it->first;
            if (!accepted_ || !accepted_->has(name))
                throw malformed(fmt::format("unknown query parameter '{}': {} {} {}", http::loggable(name), method,
                                            pattern, accepted_list()));
            if (std::any_of(pairs.begin(), it, [&](const auto& p) { return p.first == name; }))
                throw malformed(fmt::format("query parameter '{}' is given more than once", http::loggable(name)));
        }
    }

private:
    void require_declared(std::string_view name) const {
        if (accepted_ && !accepted_->has(name))
            throw std::logic_error(fmt::format("the route reads query parameter '{}' it does not declare", name));
    }

    std::string accepted_list() const {
        if (!accepted_ || accepted_->names.empty()) return "takes no query parameters";
        std::string out = "accepts ";
        for (std::size_t i = 0; i < accepted_->names.size(); ++i) {
            if (i) out += ", ";
            out += accepted_->names[i];
        }
        return out;
    }

    http::query_params params_;
    const accepts* accepted_ = nullptr;
};

}  // namespace tmon
