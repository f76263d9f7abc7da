#pragma once
// Routes requests by method and path pattern, reading like a route table:
//   r.get("/api/runs/{run_id}/metrics/latest", latest_metrics);
// "{name}" captures one path segment, "{name...}" captures the rest of the path.
// A path that matches no pattern is 404; a path that matches only under other
// methods is 405 with Allow. A literal segment beats a capture, so
// "/api/runs/compare" wins over "/api/runs/{run_id}" whatever the order.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tmon/transport/http/errors.hpp"
#include "tmon/transport/http/message.hpp"
#include "tmon/transport/transport_concept.hpp"

namespace tmon::http {

class route_params {
public:
    // Views into the request's path: valid while the request is.
    std::string_view get(std::string_view name) const noexcept {
        for (const auto& [k, v] : values_)
            if (k == name) return v;
        return {};
    }
    std::string_view operator[](std::string_view name) const noexcept { return get(name); }
    bool has(std::string_view name) const noexcept {
        for (const auto& [k, v] : values_)
            if (k == name) return true;
        return false;
    }
    std::size_t size() const noexcept { return values_.size(); }

    void clear() noexcept { values_.clear(); }
    void add(std::string_view name, std::string_view value) { values_.emplace_back(name, value); }

private:
    std::vector<std::pair<std::string_view, std::string_view>> values_;
};

using route_handler = std::function<void(request&, const route_params&, respond_fn)>;

class router {
public:
    router& add(std::string_view method, std::string_view pattern, route_handler handler) {
        routes_.push_back(route{std::string{method}, compile(pattern), std::move(handler)});
        return *this;
    }
    router& get(std::string_view pattern, route_handler h) { return add("GET", pattern, std::move(h)); }
    router& post(std::string_view pattern, route_handler h) { return add("POST", pattern, std::move(h)); }
    router& put(std::string_view pattern, route_handler h) { return add("PUT", pattern, std::move(h)); }
    router& patch(std::string_view pattern, route_handler h) { return add("PATCH", pattern, std::move(h)); }
    router& del(std::string_view pattern, route_handler h) { return add("DELETE", pattern, std::move(h)); }

    struct match_result {
        const route_handler* handler = nullptr;  // null: see status
        int status = 200;                        // 200, 404 or 405
        std::string allow;                       // for 405: "GET, HEAD, POST"
    };

    // HEAD is served by GET routes (the transport drops the body). The Allow
    // list is only built on a miss, so a hit allocates nothing beyond params.
    match_result match(std::string_view method, std::string_view path, route_params& params) const {
        match_result out;
        out.status = 404;
        int best_score = -1;
        route_params candidate;
        for (const auto& r : routes_) {
            candidate.clear();
            int score = 0;
            if (!matches(r.segments, path, candidate, score)) continue;
            out.status = 405;
            bool method_ok = r.method == method || (method == "HEAD" && r.method == "GET");
            if (method_ok && score > best_score) {
                best_score = score;
                out.handler = &r.handler;
                std::swap(params, candidate);
            }
        }
        if (out.handler) out.status = 200;
        else if (out.status == 405) out.allow = allowed_methods(path);
        return out;
    }

    // Usable directly as app_handlers::on_request.
    void dispatch(request& req, respond_fn respond) const {
        route_params params;
        auto m = match(req.method, req.path, params);
        if (m.handler) {
            (*m.handler)(req, params, std::move(respond));
        } else if (m.status == 405) {
            auto r = error_response(405, "method " + req.method + " is not allowed on " + req.path);
            r.headers.push_back({"Allow", m.allow});
            respond(std::move(r));
        } else {
            respond(error_response(404, "no route for " + req.path));
        }
    }
    void operator()(request&& req, respond_fn respond) const { dispatch(req, std::move(respond)); }

    std::size_t size() const noexcept { return routes_.size(); }

private:
    struct segment {
        enum kind_t { literal, capture, rest } kind = literal;
        std::string text;  // literal text or capture name
    };
    struct route {
        std::string method;
        std::vector<segment> segments;
        route_handler handler;
    };

    static std::vector<segment> compile(std::string_view pattern) {
        std::vector<segment> out;
        for_each_segment(pattern, [&](std::string_view s) {
            if (s.size() > 5 && s.front() == '{' && s.ends_with("...}"))
                out.push_back({segment::rest, std::string{s.substr(1, s.size() - 5)}});
            else if (s.size() > 2 && s.front() == '{' && s.back() == '}')
                out.push_back({segment::capture, std::string{s.substr(1, s.size() - 2)}});
            else out.push_back({segment::literal, std::string{s}});
        });
        return out;
    }

    // "/a/b/" yields "a", "b", "": a trailing slash is a distinct (empty) segment.
    template <class F>
    static void for_each_segment(std::string_view path, F&& f) {
        if (!path.empty() && path.front() == '/') path.remove_prefix(1);
        while (true) {
            auto slash = path.find('/');
            f(path.substr(0, slash));
            if (slash == std::string_view::npos) break;
            path.remove_prefix(slash + 1);
        }
    }

    // Score: literals count double so a literal beats a capture at the same place.
    static bool matches(const std::vector<segment>& segs, std::string_view path, route_params& params, int& score) {
        if (path.empty() || path.front() != '/') return false;
        path.remove_prefix(1);
        for (std::size_t i = 0; i < segs.size(); ++i) {
            const auto& s = segs[i];
            if (s.kind == segment::rest) {
                if (path.empty()) return false;
                params.add(s.text, path);
                return true;
            }
            auto slash = path.find('/');
            bool last_in_path = slash == std::string_view::npos;
            std::string_view piece = path.substr(0, slash);
            if (s.kind == segment::literal) {
                if (piece != s.text) return false;
                score += 2;
            } else {
                if (piece.empty()) return false;
                params.add(s.text, piece);
                score += 1;
            }
            bool last_in_pattern = i + 1 == segs.size();
            if (last_in_pattern != last_in_path) return false;
            if (!last_in_path) path.remove_prefix(slash + 1);
        }
        return true;
    }

    std::string allowed_methods(std::string_view path) const {
        std::vector<std::string_view> allowed;
        auto add = [&](std::string_view m) {
            for (auto a : allowed)
                if (a == m) return;
            allowed.push_back(m);
        };
        route_params ignored;
        for (const auto& r : routes_) {
            int score = 0;
            ignored.clear();
            if (!matches(r.segments, path, ignored, score)) continue;
            add(r.method);
            if (r.method == "GET") add("HEAD");
        }
        std::string out;
        for (auto m : allowed) {
            if (!out.empty()) out += ", ";
            out += m;
        }
        return out;
    }

    std::vector<route> routes_;
};

}  // namespace tmon::http
