// The command line's bounds: what refuge-load refuses before it opens anything.
#include "load_options.h"

#include <gtest/gtest.h>

namespace refuge::load {
namespace {

constexpr uint64_t kLimit = 20'000;

Status Check(std::vector<std::string> args, uint64_t limit = kLimit) {
  auto options = ParseArguments(args);
  if (!options.ok()) return options.status();
  return ValidateOptions(*options, limit);
}

TEST(LoadOptionsTest, DefaultsAndParsing) {
  auto options = ParseArguments({"--target", "127.0.0.1:8080", "--duration", "10", "--readers", "5",
                                 "--path", "/a", "--path", "/b", "--json"});
  ASSERT_TRUE(options.ok()) << options.status().message();
  EXPECT_EQ(options->readers, 5);
  EXPECT_EQ(options->paths, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_TRUE(options->json);
  EXPECT_EQ(options->reader_interval_ms, 10);
  EXPECT_EQ(options->reader_timeout_ms, 5000);
  EXPECT_EQ(options->slowloris_interval_ms, 5000);
  EXPECT_EQ(options->processes, 1);
  EXPECT_TRUE(ValidateOptions(*options, kLimit).ok());
}

TEST(LoadOptionsTest, TargetAndDurationAreRequired) {
  EXPECT_FALSE(ParseArguments({"--duration", "10", "--readers", "1"}).ok());
  EXPECT_FALSE(ParseArguments({"--target", "127.0.0.1:1", "--readers", "1"}).ok());
}

TEST(LoadOptionsTest, NoModeIsRefused) {
  Status status = Check({"--target", "127.0.0.1:8080", "--duration", "10"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no mode"), std::string::npos);
}

TEST(LoadOptionsTest, DurationIsBounded) {
  EXPECT_TRUE(Check({"--target", "127.0.0.1:1", "--duration", "600", "--readers", "1"}).ok());
  EXPECT_TRUE(Check({"--target", "127.0.0.1:1", "--duration", "0.5", "--readers", "1"}).ok());
  EXPECT_FALSE(Check({"--target", "127.0.0.1:1", "--duration", "601", "--readers", "1"}).ok());
  EXPECT_FALSE(Check({"--target", "127.0.0.1:1", "--duration", "0", "--readers", "1"}).ok());
  EXPECT_FALSE(Check({"--target", "127.0.0.1:1", "--duration", "-1", "--readers", "1"}).ok());
}

TEST(LoadOptionsTest, CountsAndIntervalsAreBounded) {
  EXPECT_FALSE(Check({"--target", "127.0.0.1:1", "--duration", "1", "--readers", "10001"}).ok());
  EXPECT_FALSE(
      Check({"--target", "127.0.0.1:1", "--duration", "1", "--readers", "1", "--processes", "17"})
          .ok());
  EXPECT_FALSE(Check({"--target", "127.0.0.1:1", "--duration", "1", "--slowloris", "10",
                      "--slowloris-interval-ms", "0"})
                   .ok());
  EXPECT_FALSE(Check({"--target", "127.0.0.1:1", "--duration", "1", "--distributed-sources", "10",
                      "--distributed-rate", "0"})
                   .ok());
  EXPECT_FALSE(
      Check({"--target", "127.0.0.1:1", "--duration", "1", "--readers", "1", "--path", "no-slash"})
          .ok());
  EXPECT_FALSE(
      Check({"--target", "127.0.0.1:1", "--duration", "1", "--readers", "1", "--path", "/a b"})
          .ok());
}

TEST(LoadOptionsTest, ScenarioDFitsOneProcess) {
  // 15,000 slowloris + a flood + 5,000 distributed addresses + readers.
  EXPECT_TRUE(Check({"--target", "127.0.0.1:1", "--duration", "30", "--readers", "20",
                     "--slowloris", "15000", "--flood-sources", "1", "--flood-connections", "64",
                     "--distributed-sources", "5000", "--distributed-rate", "1"})
                  .ok());
}

TEST(LoadOptionsTest, DescriptorLimitAsksForProcesses) {
  Status status = Check({"--target", "127.0.0.1:1", "--duration", "1", "--slowloris", "30000",
                         "--slowloris-sources", "2"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--processes 2"), std::string::npos) << status.message();
  EXPECT_TRUE(Check({"--target", "127.0.0.1:1", "--duration", "1", "--slowloris", "30000",
                     "--slowloris-sources", "2", "--processes", "2"})
                  .ok());
}

TEST(LoadOptionsTest, ConnectionsPerSourceStayUnderTheEphemeralPorts) {
  Status status = Check(
      {"--target", "127.0.0.1:1", "--duration", "1", "--slowloris", "30000", "--processes", "2"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("per source address"), std::string::npos);
}

TEST(LoadOptionsTest, SharesAddUp) {
  uint64_t total = 0;
  for (int w = 0; w < 3; ++w) total += ShareOf(10, w, 3);
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(ShareOf(10, 0, 3), 4u);
  EXPECT_EQ(ShareOf(10, 2, 3), 3u);
}

}  // namespace
}  // namespace refuge::load
