// tmon::compiled: the templates TMON_SEPARATE_COMPILATION leaves to this library.
#include "tmon/tmon.hpp"

namespace tmon {
TMON_MEMORY_STORE_TEMPLATES()
}  // namespace tmon
