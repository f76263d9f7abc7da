#pragma once
// The dashboard: the embedded build (tmon/dashboard/assets.hpp, gzip bytes) or,
// with server_config::static_dir, files from disk. GET / is index.html, any
// other path that is not a file a JSON 404; hashed /assets/ files are immutable; ETags
// answer If-None-Match with 304. A path can never leave the static root.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>
#include <zlib.h>

#include "tmon/transport/http/errors.hpp"
#include "tmon/transport/http/message.hpp"

#include "tmon/dashboard/assets.hpp"

namespace tmon::detail {

inline std::optional<std::string> gunzip(std::string_view gz, std::size_t size_hint) {
    std::string out;
    out.resize(size_hint ? size_hint : gz.size() * 4);
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    zs.avail_in = static_cast<uInt>(gz.size());
    int rc = Z_OK;
    std::size_t produced = 0;
    while (rc == Z_OK) {
        if (produced == out.size()) out.resize(out.size() * 2 + 1024);
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
        zs.avail_out = static_cast<uInt>(out.size() - produced);
        rc = inflate(&zs, Z_NO_FLUSH);
        produced = out.size() - zs.avail_out;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) return std::nullopt;
    out.resize(produced);
    return out;
}

inline bool accepts_gzip(const http::request& req) {
    std::string_view ae = req.header_value("Accept-Encoding");
    auto pos = ae.find("gzip");
    if (pos == std::string_view::npos) return false;
    auto rest = ae.substr(pos + 4);
    auto comma = rest.find(',');
    auto params = rest.substr(0, comma);
    return params.find("q=0") == std::string_view::npos || params.find("q=0.") != std::string_view::npos;
}

// If-None-Match may list several tags, or "*".
inline bool etag_matches(const http::request& req, std::string_view etag) {
    std::string_view inm = req.header_value("If-None-Match");
    if (inm.empty() || etag.empty()) return false;
    if (inm == "*") return true;
    return inm.find(etag) != std::string_view::npos;
}

inline std::string_view content_type_for(std::string_view path) {
    auto dot = path.rfind('.');
    std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "json" || ext == "map") return "application/json";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    if (ext == "woff2") return "font/woff2";
    if (ext == "txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

inline std::string_view cache_control_for(std::string_view path) {
    if (path.starts_with("/assets/")) return "public, max-age=31536000, immutable";
    return "no-cache";
}

// The dashboard is one page at "/" (state lives in the query string), so any
// other path is a typo or a script's mistake and gets a JSON 404, never the page.
inline std::string not_found_detail(std::string_view path) {
    return fmt::format("no route or dashboard file at {} (the dashboard is at /, the API under /api/)", path);
}

inline bool has_dot_segment(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        auto seg = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (seg == ".." || seg == ".") return true;
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos;
}

inline http::response not_modified(std::string_view etag, std::string_view cache_control) {
    http::response r;
    r.status = 304;
    r.content_type.clear();
    r.headers.push_back({"ETag", std::string(etag)});
    r.headers.push_back({"Cache-Control", std::string(cache_control)});
    return r;
}

class static_site {
public:
    explicit static_site(std::string static_dir = {}) {
        if (!static_dir.empty()) {
            std::error_code ec;
            root_ = std::filesystem::weakly_canonical(static_dir, ec);
            if (ec || !std::filesystem::is_directory(root_))
                throw std::runtime_error(fmt::format("static_dir '{}' is not a directory", static_dir));
        }
    }

    http::response serve(const http::request& req) {
        std::string_view path = req.path.empty() ? std::string_view{"/"} : std::string_view{req.path};
        if (detail::has_dot_segment(path)) return http::error_response(404, "no such file");
        if (!root_.empty()) return serve_disk(req, path);
        return serve_embedded(req, path);
    }

private:
    http::response serve_embedded(const http::request& req, std::string_view path) {
        const dashboard::asset* a = find_asset(path == "/" ? std::string_view{"/index.html"} : path);
        if (!a) return http::error_response(404, detail::not_found_detail(path));
        std::string_view cache = detail::cache_control_for(a->path);
        if (detail::etag_matches(req, a->etag)) return detail::not_modified(a->etag, cache);
        http::response r;
        r.content_type = std::string(a->content_type);
        r.headers.push_back({"ETag", std::string(a->etag)});
        r.headers.push_back({"Cache-Control", std::string(cache)});
        r.headers.push_back({"Vary", "Accept-Encoding"});
        if (detail::accepts_gzip(req)) {
            r.headers.push_back({"Content-Encoding", "gzip"});
            r.body = std::string(a->gzip);
        } else {
            r.body = decompressed(*a);
        }
        return r;
    }

    static const dashboard::asset* find_asset(std::string_view path) {
        for (const auto& a : dashboard::assets)
            if (a.path == path) return &a;
        return nullptr;
    }

    std::string decompressed(const dashboard::asset& a) {
        std::lock_guard lock(mutex_);
        auto it = plain_.find(a.path);
        if (it == plain_.end()) {
            auto raw = detail::gunzip(a.gzip, a.raw_size);
            it = plain_.emplace(a.path, raw ? std::move(*raw) : std::string{}).first;
        }
        return it->second;
    }

    http::response serve_disk(const http::request& req, std::string_view path) {
        namespace fs = std::filesystem;
        std::string rel(path.substr(1));
        fs::path file = rel.empty() ? root_ / "index.html" : root_ / rel;
        std::error_code ec;
        if (fs::is_directory(file, ec)) file /= "index.html";
        if (!fs::is_regular_file(file, ec)) return http::error_response(404, detail::not_found_detail(path));
        fs::path real = fs::weakly_canonical(file, ec);
        auto [root_end, real_it] = std::mismatch(root_.begin(), root_.end(), real.begin(), real.end());
        if (ec || root_end != root_.end() || !fs::is_regular_file(real, ec))
            return http::error_response(404, fmt::format("no file at {}", path));

        auto size = fs::file_size(real, ec);
        auto mtime = fs::last_write_time(real, ec).time_since_epoch().count();
        std::string etag = fmt::format("\"{:x}-{:x}\"", size, static_cast<unsigned long long>(mtime));
        std::string rel_path = "/" + fs::relative(real, root_, ec).generic_string();
        std::string_view cache = detail::cache_control_for(rel_path);
        if (detail::etag_matches(req, etag)) return detail::not_modified(etag, cache);

        std::ifstream in(real, std::ios::binary);
        if (!in) return http::error_response(404, fmt::format("cannot read {}", path));
        std::ostringstream buf;
        buf << in.rdbuf();
        http::response r;
        r.content_type = std::string(detail::content_type_for(real.filename().string()));
        r.headers.push_back({"ETag", etag});
        r.headers.push_back({"Cache-Control", std::string(cache)});
        r.body = std::move(buf).str();
        return r;
    }

    std::filesystem::path root_;
    std::mutex mutex_;
    std::map<std::string_view, std::string> plain_;
};

}  // namespace tmon::detail
