#pragma once
// Inserting into the middle of a std::deque, for the rare out-of-order write
// (an older step, a replayed event). std::deque::insert instantiates several
// kilobytes of segment-wise copying per element type in every TU that
// includes a store; this moves elements one by one from the nearer end, as
// deque::insert does, for a fraction of the compile time.
#include <cstddef>
#include <utility>

namespace tmon::detail {

// Inserts value before position pos (0 <= pos <= d.size()).
template <class Deque, class T>
void deque_insert_at(Deque& d, std::size_t pos, const T& value) {
    typename Deque::value_type v = value;  // copied before anything moves: a throwing copy changes nothing
    if (pos < d.size() / 2) {
        d.emplace_front();
        for (std::size_t i = 0; i < pos; ++i) d[i] = std::move(d[i + 1]);
    } else {
        d.emplace_back();
        for (std::size_t i = d.size() - 1; i > pos; --i) d[i] = std::move(d[i - 1]);
    }
    d[pos] = std::move(v);
}

}  // namespace tmon::detail
