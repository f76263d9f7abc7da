#pragma once
// The real stores the monitor is tested against (support/stores.hpp's list), each
// fresh in a temp dir of its own:
//   TEMPLATE_TEST_CASE("...", "[monitor]", TMON_TEST_STORES) { monitor_test::fixture<TestType> fx; ... fx.store ... }
#include <memory>

#include "support/stores.hpp"
#include "support/temp_dir.hpp"

// The list names the stores unqualified (so the cases read "... - sqlite_store").
using tmon::jsonl_store;
using tmon::memory_store;
using tmon::sqlite_store;

namespace monitor_test {

template <class Store>
struct fixture {
    using store_type = Store;
    tmon::test::temp_dir dir;
    std::unique_ptr<Store> owned = tmon::test::store_traits<Store>::open(dir);
    Store& store = *owned;
};

}  // namespace monitor_test
