// tmon::compiled: the templates TMON_SEPARATE_COMPILATION leaves to this library.
#include "tmon/client.hpp"

namespace tmon {
TMON_CLIENT_TEMPLATES()
}  // namespace tmon
