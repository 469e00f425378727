// The loopback-only rule: which targets and sources refuge-load accepts, and how it tells
// the project's test namespaces from everything else.
#include "target_policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "load_options.h"
#include "load_runner.h"

namespace refuge::load {
namespace {

IpAddress Ip(const char* text) {
  auto ip = ParseIpLiteral(text);
  EXPECT_TRUE(ip.ok()) << text;
  return ip.ok() ? *ip : IpAddress();
}

const NamespaceInfo kInitial{};

TEST(TargetPolicyTest, LoopbackTargetsAreAllowed) {
  EXPECT_TRUE(IsAllowedTarget(Ip("127.0.0.1"), kInitial));
  EXPECT_TRUE(IsAllowedTarget(Ip("127.255.255.254"), kInitial));
  EXPECT_TRUE(IsAllowedTarget(Ip("127.3.0.1"), kInitial));
  EXPECT_TRUE(IsAllowedTarget(Ip("::1"), kInitial));
  EXPECT_TRUE(IsAllowedTarget(Ip("[::1]"), kInitial));
}

TEST(TargetPolicyTest, OtherTargetsAreRefused) {
  EXPECT_FALSE(IsAllowedTarget(Ip("10.0.0.1"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("192.168.1.1"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("0.0.0.0"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("128.0.0.1"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("126.255.255.255"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("::"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("::2"), kInitial));
  EXPECT_FALSE(IsAllowedTarget(Ip("2001:db8::1"), kInitial));
}

// Decision: IPv4-mapped loopback is refused; the rule stays literal and 127.0.0.1 says it.
TEST(TargetPolicyTest, MappedLoopbackIsRefusedWithAHint) {
  IpAddress mapped = Ip("::ffff:127.0.0.1");
  EXPECT_FALSE(IsAllowedTarget(mapped, kInitial));
  Status status = CheckAddressAllowed(mapped, kInitial, "target");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("plain IPv4"), std::string::npos) << status.message();
}

TEST(TargetPolicyTest, HostnamesAreRefusedWithoutResolving) {
  for (const char* name : {"localhost", "example.com", "127.0.0.1.nip.io", "127.1", "0x7f.1", "",
                           "[127.0.0.1]", "fe80::1%lo"}) {
    Status status = CheckAddressTextAllowed(name, kInitial, "target");
    EXPECT_FALSE(status.ok()) << name;
  }
  auto endpoint = ParseEndpoint("localhost:8080");
  EXPECT_FALSE(endpoint.ok());
  EXPECT_NE(endpoint.status().message().find("never resolves"), std::string::npos);
}

TEST(TargetPolicyTest, RefusalSaysWhy) {
  Status status = CheckAddressAllowed(Ip("10.0.0.1"), kInitial, "target");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("10.0.0.1"), std::string::npos);
  EXPECT_NE(status.message().find("not a loopback address"), std::string::npos);
  EXPECT_NE(status.message().find("rfg"), std::string::npos);
}

TEST(TargetPolicyTest, TestNamespacesAllowAnyAddress) {
  NamespaceInfo rfg{false, "rfg-shield-1"};
  EXPECT_TRUE(IsAllowedTarget(Ip("10.0.0.1"), rfg));
  EXPECT_TRUE(IsAllowedTarget(Ip("192.168.1.1"), rfg));

  NamespaceInfo other{false, "production"};
  EXPECT_FALSE(IsAllowedTarget(Ip("10.0.0.1"), other));
  NamespaceInfo unnamed{false, ""};
  EXPECT_FALSE(IsAllowedTarget(Ip("10.0.0.1"), unnamed));
  // The name alone is not enough: the initial namespace never counts as a test namespace.
  NamespaceInfo initial_named{true, "rfg-x"};
  EXPECT_FALSE(IsAllowedTarget(Ip("10.0.0.1"), initial_named));
}

class NamespaceDetectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/refuge-load-ns-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::filesystem::create_directory(dir_ / "netns");
    std::filesystem::create_directories(dir_ / "kthreadd" / "ns");
    std::ofstream(dir_ / "init") << "init";
    std::ofstream(dir_ / "netns" / "rfg-a") << "a";
    std::ofstream(dir_ / "netns" / "other") << "b";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // `self` becomes a hard link of `target` (same device and inode, like a bind mount of nsfs).
  void LinkSelf(const std::filesystem::path& target) {
    std::filesystem::create_hard_link(target, dir_ / "self");
  }
  NamespacePaths Paths() {
    return NamespacePaths{(dir_ / "self").string(), (dir_ / "init").string(),
                          (dir_ / "kthreadd").string(), (dir_ / "netns").string()};
  }
  NamespaceInfo Detect() { return DetectNetworkNamespace(Paths()); }
  // Makes dir_/kthreadd look like kthreadd whose namespace is `ns`.
  void FakeKthreadd(const char* comm, const char* ppid, const std::filesystem::path& ns) {
    std::ofstream(dir_ / "kthreadd" / "comm") << comm << "\n";
    std::ofstream(dir_ / "kthreadd" / "status")
        << "Name:\t" << comm << "\nPPid:\t" << ppid << "\nTracerPid:\t0\n";
    std::filesystem::create_hard_link(ns, dir_ / "kthreadd" / "ns" / "net");
  }
  std::filesystem::path dir_;
};

TEST_F(NamespaceDetectionTest, InitialNamespace) {
  LinkSelf(dir_ / "init");
  NamespaceInfo ns = Detect();
  EXPECT_TRUE(ns.initial);
  EXPECT_FALSE(IsTestNamespace(ns));
}

TEST_F(NamespaceDetectionTest, NamedTestNamespace) {
  LinkSelf(dir_ / "netns" / "rfg-a");
  NamespaceInfo ns = Detect();
  EXPECT_FALSE(ns.initial);
  EXPECT_EQ(ns.name, "rfg-a");
  EXPECT_TRUE(IsTestNamespace(ns));
}

TEST_F(NamespaceDetectionTest, OtherNamedNamespace) {
  LinkSelf(dir_ / "netns" / "other");
  NamespaceInfo ns = Detect();
  EXPECT_FALSE(ns.initial);
  EXPECT_EQ(ns.name, "other");
  EXPECT_FALSE(IsTestNamespace(ns));
}

TEST_F(NamespaceDetectionTest, UnreadableMeansInitial) {
  NamespacePaths paths = Paths();
  paths.self_ns = (dir_ / "missing").string();
  EXPECT_TRUE(DetectNetworkNamespace(paths).initial);
  // PID 1 unreadable and no kthreadd to ask: the strict rule.
  LinkSelf(dir_ / "netns" / "rfg-a");
  paths = Paths();
  paths.init_ns = (dir_ / "missing").string();
  EXPECT_TRUE(DetectNetworkNamespace(paths).initial);
}

TEST_F(NamespaceDetectionTest, KthreaddStandsInForAnUnreadablePid1) {
  LinkSelf(dir_ / "netns" / "rfg-a");
  FakeKthreadd("kthreadd", "0", dir_ / "init");
  NamespacePaths paths = Paths();
  paths.init_ns = (dir_ / "missing").string();
  NamespaceInfo ns = DetectNetworkNamespace(paths);
  EXPECT_FALSE(ns.initial);
  EXPECT_TRUE(IsTestNamespace(ns));
}

TEST_F(NamespaceDetectionTest, AnImpostorKthreaddIsIgnored) {
  LinkSelf(dir_ / "netns" / "rfg-a");
  FakeKthreadd("kthreadd", "1", dir_ / "init");  // a process named so, but with a parent
  NamespacePaths paths = Paths();
  paths.init_ns = (dir_ / "missing").string();
  EXPECT_TRUE(DetectNetworkNamespace(paths).initial);
}

TEST_F(NamespaceDetectionTest, SelfInTheKthreaddNamespaceIsInitial) {
  LinkSelf(dir_ / "netns" / "rfg-a");  // an rfg name attached to the initial namespace
  FakeKthreadd("kthreadd", "0", dir_ / "netns" / "rfg-a");
  NamespacePaths paths = Paths();
  paths.init_ns = (dir_ / "missing").string();
  EXPECT_TRUE(DetectNetworkNamespace(paths).initial);
}

TEST(TargetPolicyTest, TheRealProcessIsInTheInitialNamespaceOrATestOne) {
  NamespaceInfo ns = DetectNetworkNamespace();
  if (!ns.initial) GTEST_SKIP() << "running in namespace \"" << ns.name << "\"";
  EXPECT_FALSE(IsAllowedTarget(Ip("10.0.0.1"), ns));
}

TEST(AddressTest, ConsecutiveSourcesSkipZeroAnd255) {
  IpAddress base = Ip("127.1.0.1");
  EXPECT_EQ(FormatIp(*NthAddress(base, 0)), "127.1.0.1");
  EXPECT_EQ(FormatIp(*NthAddress(base, 253)), "127.1.0.254");
  EXPECT_EQ(FormatIp(*NthAddress(base, 254)), "127.1.1.1");
  EXPECT_EQ(FormatIp(*NthAddress(base, 4999)), "127.1.19.174");
  EXPECT_EQ(FormatIp(*NthAddress(Ip("127.1.0.0"), 0)), "127.1.0.1");
  EXPECT_EQ(FormatIp(*NthAddress(Ip("127.1.0.255"), 0)), "127.1.1.1");
  EXPECT_FALSE(NthAddress(Ip("255.255.255.254"), 1).ok());
  EXPECT_EQ(FormatIp(*NthAddress(Ip("::1"), 0)), "::1");
  EXPECT_EQ(FormatIp(*NthAddress(Ip("::1"), 1)), "::2");
}

TEST(AddressTest, Endpoints) {
  auto v4 = ParseEndpoint("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(FormatEndpoint(*v4), "127.0.0.1:8080");
  auto v6 = ParseEndpoint("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(FormatEndpoint(*v6), "[::1]:80");
  EXPECT_FALSE(ParseEndpoint("::1:80").ok());
  EXPECT_FALSE(ParseEndpoint("127.0.0.1").ok());
  EXPECT_FALSE(ParseEndpoint("127.0.0.1:0").ok());
  EXPECT_FALSE(ParseEndpoint("127.0.0.1:65536").ok());
  EXPECT_FALSE(ParseEndpoint("127.0.0.1:80x").ok());
}

LoadOptions Options(std::vector<std::string> args) {
  auto options = ParseArguments(args);
  EXPECT_TRUE(options.ok()) << options.status().message();
  return options.ok() ? *options : LoadOptions();
}

TEST(PlanTest, RefusesRemoteTargetsAndSources) {
  EXPECT_TRUE(
      PlanLoad(Options({"--target", "127.0.0.1:80", "--duration", "1", "--readers", "1"}), kInitial)
          .ok());
  EXPECT_FALSE(
      PlanLoad(Options({"--target", "10.0.0.1:80", "--duration", "1", "--readers", "1"}), kInitial)
          .ok());
  EXPECT_FALSE(
      PlanLoad(Options({"--target", "localhost:80", "--duration", "1", "--readers", "1"}), kInitial)
          .ok());
  EXPECT_FALSE(PlanLoad(Options({"--target", "127.0.0.1:80", "--duration", "1", "--readers", "1",
                                 "--reader-source", "10.0.0.2"}),
                        kInitial)
                   .ok());
  // A range that starts on loopback but runs out of 127/8 is refused by its last address.
  Result<LoadPlan> plan =
      PlanLoad(Options({"--target", "127.0.0.1:80", "--duration", "1", "--flood-sources", "300",
                        "--flood-base", "127.255.255.100"}),
               kInitial);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("128.0.0."), std::string::npos) << plan.status().message();
  // IPv6: ::1 for every mode; more than one source address cannot be loopback.
  EXPECT_TRUE(PlanLoad(Options({"--target", "[::1]:80", "--duration", "1", "--readers", "1",
                                "--slowloris", "3"}),
                       kInitial)
                  .ok());
  EXPECT_FALSE(
      PlanLoad(Options({"--target", "[::1]:80", "--duration", "1", "--flood-sources", "2"}),
               kInitial)
          .ok());
  // In a test namespace the same remote target is fine.
  EXPECT_TRUE(PlanLoad(Options({"--target", "10.0.0.1:80", "--duration", "1", "--readers", "1",
                                "--reader-source", "10.0.0.2"}),
                       NamespaceInfo{false, "rfg-lab"})
                  .ok());
}

}  // namespace
}  // namespace refuge::load
