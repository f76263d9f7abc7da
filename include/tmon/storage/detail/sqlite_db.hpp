#pragma once
// A thin RAII layer over the SQLite C API: a connection owns its prepared
// statements (cached by SQL text, prepared once, reset after each use), and
// every failure becomes a tmon::error naming the statement.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <sqlite3.h>

#include "tmon/core/error.hpp"

namespace tmon::detail {

// Disk trouble is "unavailable" (503: retry later), anything else is a bug (500).
inline errc sqlite_errc(int rc) {
    switch (rc & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN:
        case SQLITE_NOMEM: return errc::unavailable;
        default: return errc::internal;
    }
}

[[noreturn]] inline void throw_sqlite(sqlite3* db, int rc, std::string_view what) {
    throw error(sqlite_errc(rc), fmt::format("sqlite: {}: {}", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// One use of a cached statement: binds by position (1-based), steps, reads
// columns, and resets itself when it goes out of scope.
class sqlite_stmt {
public:
    sqlite_stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
    ~sqlite_stmt() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    sqlite_stmt(const sqlite_stmt&) = delete;
    sqlite_stmt& operator=(const sqlite_stmt&) = delete;

    sqlite_stmt& bind(int i, std::string_view v) {
        check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
        return *this;
    }
    sqlite_stmt& bind(int i, const std::string& v) { return bind(i, std::string_view{v}); }
    sqlite_stmt& bind(int i, const char* v) { return bind(i, std::string_view{v}); }
    sqlite_stmt& bind(int i, double v) {
        check(sqlite3_bind_double(s_, i, v));
        return *this;
    }
    sqlite_stmt& bind(int i, std::int64_t v) {
        check(sqlite3_bind_int64(s_, i, v));
        return *this;
    }
    sqlite_stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    sqlite_stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v)); }
    sqlite_stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
    template <class T>
    sqlite_stmt& bind(int i, const std::optional<T>& v) {
        if (v) return bind(i, *v);
        check(sqlite3_bind_null(s_, i));
        return *this;
    }
    // The blob must outlive the step (no copy: blocks are large).
    sqlite_stmt& bind_blob(int i, const void* data, std::size_t size) {
        check(sqlite3_bind_blob64(s_, i, data, size, SQLITE_STATIC));
        return *this;
    }

    // True while a row is available.
    bool step() {
        int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw_sqlite(db_, rc, sqlite3_sql(s_));
    }
    void run() {
        while (step()) {}
    }

    bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
    std::int64_t int64(int c) const { return sqlite3_column_int64(s_, c); }
    double real(int c) const { return sqlite3_column_double(s_, c); }
    std::string text(int c) const {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
        return p ? std::string{p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c))} : std::string{};
    }
    std::string_view blob(int c) const {
        auto* p = static_cast<const char*>(sqlite3_column_blob(s_, c));
        return p ? std::string_view{p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c))} : std::string_view{};
    }
    std::optional<std::int64_t> opt_int64(int c) const {
        if (is_null(c)) return std::nullopt;
        return int64(c);
    }
    std::optional<double> opt_real(int c) const {
        if (is_null(c)) return std::nullopt;
        return real(c);
    }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) throw_sqlite(db_, rc, "bind");
    }
    sqlite3* db_;
    sqlite3_stmt* s_;
};

class sqlite_connection {
public:
    sqlite_connection(const std::string& path, int flags) {
        int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close_v2(db_);
            throw error(sqlite_errc(rc), fmt::format("sqlite: cannot open '{}': {}", path, msg));
        }
        sqlite3_extended_result_codes(db_, 1);
    }
    ~sqlite_connection() {
        for (auto& [sql, s] : cache_) sqlite3_finalize(s);
        sqlite3_close_v2(db_);
    }
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;

    sqlite3* handle() const noexcept { return db_; }

    void exec(const char* sql) {
        char* err = nullptr;
        int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errstr(rc);
            sqlite3_free(err);
            throw error(sqlite_errc(rc), fmt::format("sqlite: {}: {}", sql, msg));
        }
    }

    // `sql` must be a string literal or otherwise outlive the connection.
    sqlite_stmt prepare(const char* sql) {
        auto it = cache_.find(sql);
        if (it == cache_.end()) {
            sqlite3_stmt* s = nullptr;
            int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
            if (rc != SQLITE_OK) throw_sqlite(db_, rc, sql);
            it = cache_.emplace(sql, s).first;
        }
        return sqlite_stmt{db_, it->second};
    }

    std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

private:
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace tmon::detail
