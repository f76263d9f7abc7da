#pragma once
// run_query semantics shared by every store: filter, count, sort, page.
#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "tmon/core/types.hpp"

namespace tmon::detail {

inline bool contains_case_insensitive(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return true;
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != haystack.end();
}

inline bool run_matches(const run_info& r, const run_query& q) {
    if (q.status && r.status != *q.status) return false;
    if (!contains_case_insensitive(r.name, q.name_contains)) return false;
    if (!q.tag.empty() && std::find(r.tags.begin(), r.tags.end(), q.tag) == r.tags.end()) return false;
    return true;
}

// Ties fall back to id so pages are stable between requests.
inline void sort_runs(std::vector<run_info>& runs, run_sort sort) {
    auto by = [&](auto key, bool desc) {
        std::sort(runs.begin(), runs.end(), [&](const run_info& a, const run_info& b) {
            auto ka = key(a), kb = key(b);
            if (ka != kb) return desc ? kb < ka : ka < kb;
            return desc ? b.id < a.id : a.id < b.id;
        });
    };
    switch (sort) {
        case run_sort::created_desc: by([](const run_info& r) { return r.created_at; }, true); break;
        case run_sort::created_asc: by([](const run_info& r) { return r.created_at; }, false); break;
        case run_sort::name_asc: by([](const run_info& r) { return std::string_view{r.name}; }, false); break;
        case run_sort::name_desc: by([](const run_info& r) { return std::string_view{r.name}; }, true); break;
        case run_sort::updated_desc: by([](const run_info& r) { return r.updated_at; }, true); break;
    }
}

inline run_page page_runs(std::vector<run_info> matching, const run_query& q) {
    run_page page;
    page.total = matching.size();
    sort_runs(matching, q.sort);
    std::size_t begin = std::min(q.offset, matching.size());
    std::size_t end = std::min(matching.size(), begin + q.limit);
    page.runs.assign(std::make_move_iterator(matching.begin() + static_cast<std::ptrdiff_t>(begin)),
                     std::make_move_iterator(matching.begin() + static_cast<std::ptrdiff_t>(end)));
    return page;
}

}  // namespace tmon::detail
