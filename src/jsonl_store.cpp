// tmon::compiled: the templates TMON_SEPARATE_COMPILATION leaves to this library.
#include "tmon/storage/jsonl_store.hpp"

namespace tmon {
TMON_JSONL_STORE_TEMPLATES()
}  // namespace tmon
