// SiteClient with a node home as the source: the `refuge get --from <home>` path, a full TUF
// client run against the publisher's own store.
#include "node/site_client.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "publish/publisher.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;


const std::string kIndex = "<h1>refuge</h1>\n";
const std::string kBinary("\x00\x01\xff\xfe binary \x00 bytes", 18);

// The publisher's home with one published site, and a reader's metadata directory. The TUF
// client checks expiry against the system clock, so publishing uses it too.
class SiteClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_dir_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
    reader_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
    auto home = NodeHome::Open(home_dir_->path());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = std::move(home).value();
    auto init = InitSite(*home_, InitOptions{}, SystemClock::Get());
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    site_id_ = init->site_id;
    WriteTestFile(source_.Sub("index.html"), kIndex);
    WriteTestFile(source_.Sub("docs/index.html"), "docs index");
    WriteTestFile(source_.Sub("files/data.bin"), kBinary);
    ASSERT_TRUE(PublishNow().ok());
  }

  Result<PublishResult> PublishNow() {
    PublishOptions options;
    options.threads = 2;
    return Publish(*home_, site_id_, source_.path(), options, SystemClock::Get());
  }

  Result<std::unique_ptr<SiteClient>> OpenClient(const std::string& site_id) {
    return SiteClient::Open(home_dir_->path(), site_id, MetadataDir());
  }

  std::string MetadataDir() const { return reader_->Sub("metadata"); }

  std::unique_ptr<TempDir> home_dir_;
  std::unique_ptr<TempDir> reader_;
  TempDir source_;
  std::unique_ptr<NodeHome> home_;
  std::string site_id_;
};

TEST_F(SiteClientTest, ResolvingTheEmptyPathGivesTheIndex) {
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*client)->target_path(), "index.html");
  EXPECT_EQ(target->length, kIndex.size());
  EXPECT_EQ(target->hashes.at("sha256"), Sha256Hex(kIndex));
  EXPECT_EQ((*client)->version(), 1);
}

TEST_F(SiteClientTest, DirectoryPathResolvesToItsIndex) {
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("docs/");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*client)->target_path(), "docs/index.html");
  EXPECT_EQ(target->hashes.at("sha256"), Sha256Hex("docs index"));
}

TEST_F(SiteClientTest, DownloadWritesTheExactBytes) {
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("files/data.bin");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  const std::string out = reader_->Sub("data.bin");
  Status s = (*client)->Download(*target, out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadTestFile(out), kBinary);
}

TEST_F(SiteClientTest, UnknownPathIsNotFound) {
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("no/such/page.html");
  EXPECT_EQ(target.status().code(), StatusCode::kNotFound) << target.status().ToString();
}

TEST_F(SiteClientTest, FirstOpenKeepsTheTrustedRoot) {
  ASSERT_TRUE(OpenClient(site_id_).ok());
  EXPECT_TRUE(std::filesystem::exists(MetadataDir() + "/root.json"));
}

TEST_F(SiteClientTest, WrongSiteIdIsRefusedWithAClearMessage) {
  const std::string other = SiteIdOf("the root of some other site");
  ASSERT_TRUE(IsSiteId(other));
  auto client = OpenClient(other);
  ASSERT_FALSE(client.ok());
  const StatusCode code = client.status().code();
  EXPECT_TRUE(code == StatusCode::kVerificationFailed || code == StatusCode::kNotFound)
      << client.status().ToString();
  EXPECT_NE(client.status().message().find(other), std::string::npos)
      << "the message names the site: " << client.status().message();
  EXPECT_FALSE(std::filesystem::exists(MetadataDir() + "/root.json"))
      << "nothing is trusted after a failed first fetch";
}

TEST_F(SiteClientTest, FirstRootNotHashingToTheSiteIdIsRefused) {
  // The node serves another site's root under this site's name (a forged or damaged store).
  auto other = InitSite(*home_, InitOptions{}, SystemClock::Get());
  ASSERT_TRUE(other.ok());
  auto ours = home_->db().GetMetadata(site_id_, "root", 1);
  auto theirs = home_->db().GetMetadata(other->site_id, "root", 1);
  ASSERT_TRUE(ours.ok());
  ASSERT_TRUE(theirs.ok());
  WriteTestFile(home_->store().PathFor(ours->sha256),
                ReadTestFile(home_->store().PathFor(theirs->sha256)));

  auto client = OpenClient(site_id_);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kVerificationFailed) << client.status().ToString();
  EXPECT_NE(client.status().message().find("does not hash"), std::string::npos)
      << client.status().message();
  EXPECT_FALSE(std::filesystem::exists(MetadataDir() + "/root.json"));
}

TEST_F(SiteClientTest, NonSiteIdIsInvalidArgument) {
  for (const std::string& bad : {std::string("index.html"), std::string(52, 'A'),
                                 std::string(51, 'a'), std::string(52, '1'), std::string()}) {
    auto client = OpenClient(bad);
    EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
}

TEST_F(SiteClientTest, SourceThatIsNotANodeHomeIsInvalidArgument) {
  TempDir empty;
  auto client = SiteClient::Open(empty.path(), site_id_, MetadataDir());
  EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument) << client.status().ToString();
}

TEST_F(SiteClientTest, SecondOpenSeesTheNewVersion) {
  {
    auto client = OpenClient(site_id_);
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE((*client)->Resolve("").ok());
  }
  WriteTestFile(source_.Sub("index.html"), "updated");
  ASSERT_TRUE(PublishNow().ok());
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*client)->version(), 2);
  const std::string out = reader_->Sub("index.html");
  ASSERT_TRUE((*client)->Download(*target, out).ok());
  EXPECT_EQ(ReadTestFile(out), "updated");
}

TEST_F(SiteClientTest, ClientFollowsKeyRotations) {
  {
    auto client = OpenClient(site_id_);
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE((*client)->Resolve("").ok());
  }
  ASSERT_TRUE(RotateKey(*home_, site_id_, "timestamp", "", ExpiryPolicy{}, SystemClock::Get()).ok());
  ASSERT_TRUE(RotateKey(*home_, site_id_, "root", "", ExpiryPolicy{}, SystemClock::Get()).ok());
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*client)->version(), 2);
}

TEST_F(SiteClientTest, TamperedTargetIsNotWritten) {
  const std::string sha = Sha256Hex(kBinary);
  std::string bytes = kBinary;
  bytes[0] = 'X';
  WriteTestFile(home_->store().PathFor(sha), bytes);
  auto client = OpenClient(site_id_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto target = (*client)->Resolve("files/data.bin");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  const std::string out = reader_->Sub("data.bin");
  Status s = (*client)->Download(*target, out);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(IndexPathTest, DirectoriesNameTheirIndex) {
  EXPECT_EQ(IndexPath(""), "index.html");
  EXPECT_EQ(IndexPath("docs/"), "docs/index.html");
  EXPECT_EQ(IndexPath("docs/page.html"), "docs/page.html");
}

}  // namespace
}  // namespace refuge
