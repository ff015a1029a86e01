// Pure checks of user-supplied names and addresses, shared by the command line, the context files
// and the docker command builders. No I/O, no state.
#pragma once

#include <string_view>

namespace tp::cli {

// A context name: [a-z0-9][a-z0-9-]*, at most 63 characters. Such a name is safe in a file name
// and in the Docker names derived from it (tp-<context>-cn).
bool IsValidContextName(std::string_view name);

// The sentence to show for an invalid context name.
std::string_view ContextNameRule();

// A DNS label (RFC 1123, as Kubernetes names workloads): [a-z0-9]([a-z0-9-]*[a-z0-9])?, at most
// 63 characters.
bool IsDnsLabel(std::string_view name);

// The sentence to show for a name that is not a DNS label.
std::string_view DnsLabelRule();

// HOST:PORT with a non-empty host (a name, an IPv4 address or a bracketed IPv6 address) and a
// decimal port in 1..65535.
bool IsHostPort(std::string_view address);

// True when HOST:PORT names this machine from wherever it is used, so that inside a container it
// would be the container itself: localhost (and *.localhost), 127.0.0.0/8, ::1, ::ffff:127.x, and
// the unspecified addresses 0.0.0.0 and ::. False when it is not HOST:PORT.
bool IsLoopbackHostPort(std::string_view address);

}  // namespace tp::cli
