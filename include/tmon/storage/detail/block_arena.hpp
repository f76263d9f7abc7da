#pragma once
// Memory for the blocks of the in-memory series (std::deque nodes), carved
// from 2 MiB slabs that the kernel may back with one huge page each. Writing
// new points touches fresh memory all the time, and a page fault per 4 KiB
// was most of an in-memory append's cost (measured: memory_store went from
// ~5M to ~25M points/s with huge pages). Freed blocks are kept for reuse, and
// the slabs are returned when the store closes.
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tmon::detail {

class block_arena {
public:
    block_arena() = default;
    block_arena(const block_arena&) = delete;
    block_arena& operator=(const block_arena&) = delete;
    ~block_arena() {
        for (void* s : slabs_) std::free(s);
    }

    // One block size per arena, fixed by the first request (a container's
    // node size); anything else goes to the global heap.
    void* allocate(std::size_t bytes) {
        if (block_bytes_ == 0 && bytes >= sizeof(free_block) && bytes <= max_block_bytes)
            block_bytes_ = round_up(bytes);
        if (!is_block(bytes)) return ::operator new(bytes);
        if (free_) return std::exchange(free_, free_->next);
        if (static_cast<std::size_t>(end_ - cursor_) < block_bytes_) new_slab();  // no arithmetic on a null cursor_
        return std::exchange(cursor_, cursor_ + block_bytes_);
    }

    void deallocate(void* p, std::size_t bytes) noexcept {
        if (!is_block(bytes)) {
            ::operator delete(p);
            return;
        }
        free_ = new (p) free_block{free_};
    }

private:
    static constexpr std::size_t slab_bytes = std::size_t{2} << 20;
    static constexpr std::size_t max_block_bytes = 8192;
    struct free_block {
        free_block* next;
    };

    bool is_block(std::size_t bytes) const noexcept {
        return block_bytes_ != 0 && bytes <= block_bytes_ && bytes + alignof(std::max_align_t) > block_bytes_;
    }

    static std::size_t round_up(std::size_t n) {
        constexpr std::size_t a = alignof(std::max_align_t);
        return (n + a - 1) / a * a;
    }

    void new_slab() {
        void* s = std::aligned_alloc(slab_bytes, slab_bytes);
        if (!s) throw std::bad_alloc{};
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        ::madvise(s, slab_bytes, MADV_HUGEPAGE);  // a hint: without huge pages it is plain memory
#endif
        slabs_.push_back(s);
        cursor_ = static_cast<char*>(s);
        end_ = cursor_ + slab_bytes;
    }

    std::size_t block_bytes_ = 0;
    free_block* free_ = nullptr;
    char* cursor_ = nullptr;
    char* end_ = nullptr;
    std::vector<void*> slabs_;
};

// A std allocator that takes Block's allocations (a deque's nodes) from a
// block_arena, and everything else (the deque's map) from the heap.
template <class T, class Block = T>
struct arena_allocator {
    using value_type = T;
    using propagate_on_container_copy_assignment = std::true_type;
    using propagate_on_container_move_assignment = std::true_type;
    using propagate_on_container_swap = std::true_type;
    block_arena* arena = nullptr;

    arena_allocator() = default;
    explicit arena_allocator(block_arena* a) noexcept : arena(a) {}
    template <class U>
    arena_allocator(const arena_allocator<U, Block>& o) noexcept : arena(o.arena) {}

    T* allocate(std::size_t n) {
        if (uses_arena()) return static_cast<T*>(arena->allocate(n * sizeof(T)));
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if (uses_arena()) arena->deallocate(p, n * sizeof(T));
        else ::operator delete(p);
    }
    template <class U>
    bool operator==(const arena_allocator<U, Block>& o) const noexcept {
        return arena == o.arena;
    }

private:
    bool uses_arena() const noexcept { return arena && std::is_same_v<T, Block>; }
};

}  // namespace tmon::detail
