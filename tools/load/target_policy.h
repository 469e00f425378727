// The loopback-only rule of refuge-load, in one place.
//
// refuge-load is an attack tool. To keep it from being pointed at someone else's machine,
// every address it connects to or binds to must be on this host's loopback: 127.0.0.0/8 or
// ::1, given as an IP literal (no DNS, so nothing can resolve to a remote host). IPv4-mapped
// IPv6 addresses (::ffff:127.0.0.1) are refused too: the rule is kept literal and there is a
// plain way to say the same thing (127.0.0.1).
//
// The one exception is the project's own test namespaces: when the process runs in a network
// namespace other than the initial one, and that namespace is named (a file in /run/netns
// with the same device and inode as /proc/self/ns/net, what `ip netns identify` prints) with
// a name starting "rfg", any address is allowed, because such a namespace only reaches the
// veth networks the test scripts built (tests/netns/netenv.sh). The initial namespace is
// that of PID 1; where PID 1 cannot be inspected (a sandbox whose init is not dumpable, as
// on the project's machines), that of kthreadd (PID 2, a kernel thread, which always lives
// in the initial namespace; recognised by its name and its parent 0). Anything not
// positively identified (neither readable, an unnamed namespace) gets the loopback rule.
//
// Thread-safety: pure functions, except DetectNetworkNamespace which reads the filesystem.
#ifndef REFUGE_TOOLS_LOAD_TARGET_POLICY_H_
#define REFUGE_TOOLS_LOAD_TARGET_POLICY_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "ip_address.h"

namespace refuge::load {

// Prefix of the network namespaces the project's tests create (scripts, tests/netns).
inline constexpr std::string_view kTestNamespacePrefix = "rfg";

struct NamespaceInfo {
  bool initial = true;  // the initial network namespace, or one we could not tell apart
  std::string name;     // its name under /run/netns, or empty
};

// Where DetectNetworkNamespace looks; tests point it at a temporary directory.
struct NamespacePaths {
  std::string self_ns = "/proc/self/ns/net";
  std::string init_ns = "/proc/1/ns/net";
  std::string kernel_thread_dir = "/proc/2";  // kthreadd: comm, status, ns/net
  std::string named_dir = "/run/netns";
};

// Where the process runs.
NamespaceInfo DetectNetworkNamespace(const NamespacePaths& paths = NamespacePaths());

// 127.0.0.0/8 or ::1 (not ::ffff:127.x.y.z).
bool IsLoopback(const IpAddress& ip);
bool IsTestNamespace(const NamespaceInfo& ns);
bool IsAllowedTarget(const IpAddress& ip, const NamespaceInfo& ns);

// OK, or an error that says which address (`role`: "target", "flood source", ...) was refused
// and why.
Status CheckAddressAllowed(const IpAddress& ip, const NamespaceInfo& ns, std::string_view role);
// The same for text as given on the command line: refuses names before anything else.
Status CheckAddressTextAllowed(std::string_view text, const NamespaceInfo& ns,
                               std::string_view role);

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_TARGET_POLICY_H_
