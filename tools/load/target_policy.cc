#include "target_policy.h"

#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

namespace refuge::load {

namespace {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::string text(256, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// The namespace file of the initial network namespace: PID 1's, or kthreadd's.
bool StatInitialNamespace(const NamespacePaths& paths, struct stat* out) {
  if (stat(paths.init_ns.c_str(), out) == 0) return true;
  std::string comm = ReadSmallFile(paths.kernel_thread_dir + "/comm");
  std::string status = ReadSmallFile(paths.kernel_thread_dir + "/status");
  if (comm != "kthreadd\n" || status.find("\nPPid:\t0\n") == std::string::npos) return false;
  return stat((paths.kernel_thread_dir + "/ns/net").c_str(), out) == 0;
}

}  // namespace

NamespaceInfo DetectNetworkNamespace(const NamespacePaths& paths) {
  NamespaceInfo info;
  struct stat self {};
  struct stat initial {};
  if (stat(paths.self_ns.c_str(), &self) != 0 || !StatInitialNamespace(paths, &initial)) {
    return info;  // cannot tell: treat as the initial namespace (the strict rule)
  }
  if (self.st_dev == initial.st_dev && self.st_ino == initial.st_ino) return info;
  info.initial = false;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(paths.named_dir.c_str()), &closedir);
  if (!dir) return info;
  while (dirent* entry = readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat named {};
    std::string path = paths.named_dir + "/" + std::string(name);
    if (stat(path.c_str(), &named) != 0) continue;
    if (named.st_dev == self.st_dev && named.st_ino == self.st_ino) {
      info.name = std::string(name);
      break;
    }
  }
  return info;
}

bool IsLoopback(const IpAddress& ip) {
  if (ip.is_v4()) return ip.bytes[0] == 127;
  if (ip.family != AF_INET6) return false;
  for (int i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[15] == 1;
}

bool IsTestNamespace(const NamespaceInfo& ns) {
  return !ns.initial && ns.name.size() >= kTestNamespacePrefix.size() &&
         std::string_view(ns.name).substr(0, kTestNamespacePrefix.size()) == kTestNamespacePrefix;
}

bool IsAllowedTarget(const IpAddress& ip, const NamespaceInfo& ns) {
  return IsLoopback(ip) || IsTestNamespace(ns);
}

Status CheckAddressAllowed(const IpAddress& ip, const NamespaceInfo& ns, std::string_view role) {
  if (IsAllowedTarget(ip, ns)) return Status::Ok();
  std::string why = std::string(role) + " " + FormatIp(ip) +
                    " is not a loopback address: refuge-load only connects within this host "
                    "(127.0.0.0/8 or ::1)";
  bool mapped = ip.family == AF_INET6 && ip.bytes[10] == 0xff && ip.bytes[11] == 0xff &&
                ip.bytes[0] == 0 && ip.bytes[8] == 0 && ip.bytes[9] == 0;
  if (mapped) why += "; write IPv4-mapped addresses as plain IPv4 (e.g. 127.0.0.1)";
  if (ns.initial) {
    why += "; other addresses are allowed only inside a test network namespace named \"" +
           std::string(kTestNamespacePrefix) + "*\"";
  } else {
    why +=
        "; this network namespace " +
        (ns.name.empty() ? std::string("has no name under /run/netns") : "is \"" + ns.name + "\"") +
        ", not a test namespace \"" + std::string(kTestNamespacePrefix) + "*\"";
  }
  return InvalidArgument(std::move(why));
}

Status CheckAddressTextAllowed(std::string_view text, const NamespaceInfo& ns,
                               std::string_view role) {
  auto ip = ParseIpLiteral(text);
  if (!ip.ok()) return ip.status().Annotate(role);
  return CheckAddressAllowed(*ip, ns, role);
}

}  // namespace refuge::load
