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

// Ties fall back to id so pages are stable between requests. One comparator
// choosing its key at run time, sorting pointers: one small std::sort
// instantiation where a sort per key over run_info was five large ones.
inline void sort_runs(std::vector<run_info>& runs, run_sort sort) {
    auto by = [](const auto& ka, const auto& kb, const run_info& a, const run_info& b, bool desc) {
        if (ka != kb) return desc ? kb < ka : ka < kb;
        return desc ? b.id < a.id : a.id < b.id;
    };
    auto before = [&](const run_info* a, const run_info* b) {
        switch (sort) {
            case run_sort::created_desc: return by(a->created_at, b->created_at, *a, *b, true);
            case run_sort::created_asc: return by(a->created_at, b->created_at, *a, *b, false);
            case run_sort::name_asc: return by(std::string_view{a->name}, std::string_view{b->name}, *a, *b, false);
            case run_sort::name_desc: return by(std::string_view{a->name}, std::string_view{b->name}, *a, *b, true);
            case run_sort::updated_desc: return by(a->updated_at, b->updated_at, *a, *b, true);
        }
        return false;
    };
    switch (sort) {
        case run_sort::created_desc:
        case run_sort::created_asc:
        case run_sort::name_asc:
        case run_sort::name_desc:
        case run_sort::updated_desc: break;
        default: return;  // not a sort order: left as listed
    }
    std::vector<run_info*> order;
    order.reserve(runs.size());
    for (auto& r : runs) order.push_back(&r);
    std::sort(order.begin(), order.end(), before);
    std::vector<run_info> sorted;
    sorted.reserve(runs.size());
    for (auto* r : order) sorted.push_back(std::move(*r));
    runs = std::move(sorted);
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
