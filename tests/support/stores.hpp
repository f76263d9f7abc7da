#pragma once
// The one list of stores every typed test runs against (storage, monitor,
// server), and a fresh store of each kind in a temp dir of its own.
//
//   TEMPLATE_TEST_CASE("a run needs a name", "[storage]", TMON_TEST_STORES) { fresh_store<TestType> s; ... }
//
// Catch2 v2 names each instance after the type as written here ("a run needs a name -
// sqlite_store"), where TEMPLATE_LIST_TEST_CASE over a std::tuple would say "- all_stores - 1";
// so failures and `ctest -R sqlite_store` name the store. The names are unqualified, for
// exactly that: use the lists where tmon's names are in scope (`using namespace tmon;`, or
// using-declarations of the three stores). A new store goes here, with its store_traits.
#include <memory>

#include "support/temp_dir.hpp"
#include "tmon/storage/jsonl_store.hpp"
#include "tmon/storage/memory_store.hpp"
#include "tmon/storage/sqlite_store.hpp"

// Every store.
#define TMON_TEST_STORES memory_store, sqlite_store, jsonl_store
// The stores that keep their data in files (survive a reopen, a crash).
#define TMON_TEST_PERSISTENT_STORES sqlite_store, jsonl_store

namespace tmon::test {

// How a test opens each store over its temp dir.
template <class S>
struct store_traits;

template <>
struct store_traits<memory_store> {
    static constexpr bool persistent = false;
    static std::unique_ptr<memory_store> open(const temp_dir&) { return std::make_unique<memory_store>(); }
};

template <>
struct store_traits<sqlite_store> {
    static constexpr bool persistent = true;
    static std::unique_ptr<sqlite_store> open(const temp_dir& dir) {
        sqlite_store::options o;
        o.path = dir.file("tmon.db");
        return std::make_unique<sqlite_store>(o);
    }
};

template <>
struct store_traits<jsonl_store> {
    static constexpr bool persistent = true;
    static std::unique_ptr<jsonl_store> open(const temp_dir& dir) {
        jsonl_store::options o;
        o.dir = dir.file("runs");
        return std::make_unique<jsonl_store>(o);
    }
};

// The store under test, fresh for each test case.
template <class S>
struct fresh_store {
    temp_dir dir;
    std::unique_ptr<S> store = store_traits<S>::open(dir);
    S& operator*() { return *store; }
    S* operator->() { return store.get(); }
    // Closes and reopens over the same files (persistent stores only).
    void reopen() {
        store.reset();
        store = store_traits<S>::open(dir);
    }
};

}  // namespace tmon::test
