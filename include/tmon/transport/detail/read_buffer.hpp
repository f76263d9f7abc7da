#pragma once
// A growable byte buffer that sockets read straight into (prepare/commit) and
// parsers consume from the front, without zero-filling or per-read allocation.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace tmon::detail {

class read_buffer {
public:
    std::span<char> prepare(std::size_t n) {
        if (capacity_ - end_ < n) make_room(n);
        return {data_.get() + end_, n};
    }
    void commit(std::size_t n) noexcept { end_ += n; }
    void append(std::string_view bytes) {
        auto room = prepare(bytes.size());
        if (!bytes.empty()) std::memcpy(room.data(), bytes.data(), bytes.size());
        commit(bytes.size());
    }

    std::string_view data() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
    char* mutable_data() noexcept { return data_.get() + begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }

private:
    void make_room(std::size_t n) {
        std::size_t live = end_ - begin_;
        if (begin_ > 0 && capacity_ - live >= n) {
            std::memmove(data_.get(), data_.get() + begin_, live);
        } else {
            std::size_t cap = std::max<std::size_t>({capacity_ * 2, live + n, 4096});
            auto bigger = std::make_unique_for_overwrite<char[]>(cap);
            if (live) std::memcpy(bigger.get(), data_.get() + begin_, live);
            data_ = std::move(bigger);
            capacity_ = cap;
        }
        begin_ = 0;
        end_ = live;
    }

    std::unique_ptr<char[]> data_;
    std::size_t capacity_ = 0, begin_ = 0, end_ = 0;
};

}  // namespace tmon::detail
