#include "cli/version.h"

namespace tp::cli {

// TP_VERSION is defined for this file only (cli/CMakeLists.txt), so that a new version
// recompiles one file.
std::string_view TelepresenceVersion() { return TP_VERSION; }

}  // namespace tp::cli
