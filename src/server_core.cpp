// tmon::compiled: the templates TMON_SEPARATE_COMPILATION leaves to this library.
#include "tmon/server_core.hpp"
#include "tmon/server/server_impl.hpp"

namespace tmon {
TMON_SERVER_TEMPLATES(, memory_store)
TMON_SERVER_TEMPLATES(, jsonl_store)
}  // namespace tmon
