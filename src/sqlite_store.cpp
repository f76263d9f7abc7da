// tmon::compiled: the templates TMON_SEPARATE_COMPILATION leaves to this library.
#include "tmon/storage/sqlite_store.hpp"

namespace tmon {
TMON_SQLITE_STORE_TEMPLATES()
}  // namespace tmon
