// BlockList: the audit log (append, reload, chain checks, bounds), matching, and what a block
// does to the store (objects removed, verify and gc still right).
#include "node/block_list.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/canonical_json.h"
#include "crypto/sha256.h"
#include "node/garbage_collector.h"
#include "node/verifier.h"
#include "support/node_with_site.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

const std::string kSiteA(52, 'a');
const std::string kSiteB(52, 'b');
const std::string kZeros(64, '0');

Block MakeBlock(const std::string& site, const std::string& path, const std::string& reason = "order 1") {
  Block b;
  b.site_id = site;
  b.path = path;
  b.reason = reason;
  return b;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

class BlockLogTest : public ::testing::Test {
 protected:
  std::string LogPath() const { return BlockLogPath(home_.path()); }
  BlockList Load() {
    auto list = BlockList::Load(home_.path());
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? std::move(list).value() : BlockList();
  }
  Result<BlockAppend> Add(const std::string& site, const std::string& path,
                          const std::string& reason = "order 1") {
    return AppendBlock(home_.path(), MakeBlock(site, path, reason), clock_);
  }

  TempDir home_{TempDir::Medium::kFast};
  FakeClock clock_{1'700'000'000};
};

TEST_F(BlockLogTest, NoLogMeansNoBlocksAndAnIntactEmptyChain) {
  BlockList list = Load();
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(list.chain_ok());
  EXPECT_EQ(list.entries(), 0u);
  EXPECT_EQ(list.head_hash(), kZeros);
  EXPECT_EQ(list.Find(kSiteA, "x"), nullptr);
  EXPECT_EQ(*BlockLogFingerprint(home_.path()), "none");
}

TEST_F(BlockLogTest, AppendsAreChainedCanonicalLinesThatReloadAsBlocks) {
  auto first = Add(kSiteA, "docs/a.pdf", "Order 7, \"District\" court");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->seq, 1u);
  EXPECT_EQ(first->block.blocked_by, kDefaultBlockedBy);
  clock_.Advance(10);
  Block second = MakeBlock(kSiteB, "");
  second.blocked_by = "https://example.org/legal";
  auto appended = AppendBlock(home_.path(), second, clock_);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->seq, 2u);

  std::vector<std::string> lines = Lines(ReadTestFile(LogPath()));
  ASSERT_EQ(lines.size(), 2u);
  auto j1 = ParseJson(lines[0]);
  ASSERT_TRUE(j1.ok());
  EXPECT_EQ(*EncodeCanonical(*j1), lines[0]);
  EXPECT_EQ((*j1)["seq"], 1);
  EXPECT_EQ((*j1)["action"], "block");
  EXPECT_EQ((*j1)["site"], kSiteA);
  EXPECT_EQ((*j1)["path"], "docs/a.pdf");
  EXPECT_EQ((*j1)["time"], 1'700'000'000);
  EXPECT_EQ((*j1)["prev"], kZeros);
  auto j2 = ParseJson(lines[1]);
  ASSERT_TRUE(j2.ok());
  EXPECT_EQ((*j2)["prev"], Sha256Hex(lines[0]));
  EXPECT_EQ(appended->head_hash, Sha256Hex(lines[1]));

  BlockList list = Load();
  EXPECT_TRUE(list.chain_ok()) << list.chain_error();
  EXPECT_EQ(list.entries(), 2u);
  EXPECT_EQ(list.head_hash(), appended->head_hash);
  ASSERT_EQ(list.active().size(), 2u);
  const Block* b = list.Find(kSiteA, "docs/a.pdf");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->reason, "Order 7, \"District\" court");
  EXPECT_EQ(b->seq, 1u);
  EXPECT_EQ(b->time, 1'700'000'000);
  const Block* whole = list.FindSite(kSiteB);
  ASSERT_NE(whole, nullptr);
  EXPECT_EQ(whole->blocked_by, "https://example.org/legal");
  EXPECT_EQ(whole->time, 1'700'000'010);
}

TEST_F(BlockLogTest, TheSameItemCannotBeBlockedTwice) {
  ASSERT_TRUE(Add(kSiteA, "x.txt").ok());
  auto again = Add(kSiteA, "x.txt");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Load().entries(), 1u);
}

TEST_F(BlockLogTest, RemoveLiftsTheBlockAndIsLogged) {
  ASSERT_TRUE(Add(kSiteA, "x.txt").ok());
  ASSERT_TRUE(Add(kSiteA, "y.txt").ok());
  auto removed = AppendUnblock(home_.path(), kSiteA, "x.txt", "order lifted", clock_);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->seq, 3u);
  BlockList list = Load();
  EXPECT_TRUE(list.chain_ok()) << list.chain_error();
  EXPECT_EQ(list.Find(kSiteA, "x.txt"), nullptr);
  EXPECT_NE(list.Find(kSiteA, "y.txt"), nullptr);
  EXPECT_EQ(list.entries(), 3u);
  auto last = ParseJson(Lines(ReadTestFile(LogPath()))[2]);
  EXPECT_EQ((*last)["action"], "unblock");
  EXPECT_EQ((*last)["reason"], "order lifted");

  auto missing = AppendUnblock(home_.path(), kSiteA, "x.txt", "again", clock_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("y.txt"), std::string::npos);  // says what is blocked
  // A whole-site removal does not lift path blocks.
  EXPECT_EQ(AppendUnblock(home_.path(), kSiteA, "", "r", clock_).status().code(), StatusCode::kNotFound);
}

TEST_F(BlockLogTest, MatchesWholeSitesExactPathsAndDirectoryPrefixes) {
  ASSERT_TRUE(Add(kSiteA, "a.txt").ok());
  ASSERT_TRUE(Add(kSiteA, "docs/").ok());
  ASSERT_TRUE(Add(kSiteA, "deep/er/").ok());
  ASSERT_TRUE(Add(kSiteB, "").ok());
  BlockList list = Load();
  EXPECT_NE(list.Find(kSiteA, "a.txt"), nullptr);
  EXPECT_EQ(list.Find(kSiteA, "a.txt/b"), nullptr);
  EXPECT_EQ(list.Find(kSiteA, "a.tx"), nullptr);
  EXPECT_EQ(list.Find(kSiteA, "b/a.txt"), nullptr);
  EXPECT_NE(list.Find(kSiteA, "docs/x.html"), nullptr);
  EXPECT_NE(list.Find(kSiteA, "docs/sub/x.html"), nullptr);
  EXPECT_EQ(list.Find(kSiteA, "docs"), nullptr);  // the directory name itself is no file
  EXPECT_EQ(list.Find(kSiteA, "docsx/y"), nullptr);
  EXPECT_EQ(list.Find(kSiteA, "deep/x"), nullptr);
  EXPECT_NE(list.Find(kSiteA, "deep/er/x"), nullptr);
  EXPECT_EQ(list.Find(kSiteA, ""), nullptr);
  EXPECT_FALSE(list.SiteBlocked(kSiteA));
  EXPECT_TRUE(list.HasBlocks(kSiteA));
  EXPECT_TRUE(list.SiteBlocked(kSiteB));
  EXPECT_NE(list.Find(kSiteB, "anything/at/all"), nullptr);
  EXPECT_EQ(list.Find(std::string(52, 'c'), "a.txt"), nullptr);
  EXPECT_FALSE(list.HasBlocks(std::string(52, 'c')));

  EXPECT_TRUE(BlockCovers("", "x"));
  EXPECT_TRUE(BlockCovers("d/", "d/x"));
  EXPECT_FALSE(BlockCovers("d/", "d"));
  EXPECT_TRUE(BlockCovers("d", "d"));
  EXPECT_FALSE(BlockCovers("d", "d/x"));
}

TEST_F(BlockLogTest, AnEditedByteBreaksTheChainButTheBlocksStillApply) {
  ASSERT_TRUE(Add(kSiteA, "one.txt", "first order").ok());
  ASSERT_TRUE(Add(kSiteA, "two.txt").ok());
  ASSERT_TRUE(Add(kSiteA, "three.txt").ok());
  std::string log = ReadTestFile(LogPath());
  size_t at = log.find("first order");
  ASSERT_NE(at, std::string::npos);
  log[at] = 'F';  // still valid JSON, still canonical: only the chain can tell
  WriteTestFile(LogPath(), log);
  BlockList list = Load();
  EXPECT_FALSE(list.chain_ok());
  EXPECT_NE(list.chain_error().find("line 2"), std::string::npos) << list.chain_error();
  EXPECT_NE(list.chain_error().find("prev"), std::string::npos) << list.chain_error();
  EXPECT_NE(list.Find(kSiteA, "one.txt"), nullptr);
  EXPECT_NE(list.Find(kSiteA, "two.txt"), nullptr);
  EXPECT_NE(list.Find(kSiteA, "three.txt"), nullptr);

  // Appending still works (an order must be followed), and the break stays visible.
  auto more = Add(kSiteA, "four.txt");
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_FALSE(more->previous_chain_error.empty());
  EXPECT_FALSE(Load().chain_ok());
}

TEST_F(BlockLogTest, ARemovedOrInsertedLineIsReported) {
  ASSERT_TRUE(Add(kSiteA, "one.txt").ok());
  ASSERT_TRUE(Add(kSiteA, "two.txt").ok());
  ASSERT_TRUE(Add(kSiteA, "three.txt").ok());
  std::vector<std::string> lines = Lines(ReadTestFile(LogPath()));
  WriteTestFile(LogPath(), Join({lines[0], lines[2]}));
  BlockList cut = Load();
  EXPECT_FALSE(cut.chain_ok());
  EXPECT_NE(cut.chain_error().find("line 2: seq is 3"), std::string::npos) << cut.chain_error();
  EXPECT_EQ(cut.Find(kSiteA, "two.txt"), nullptr);
  EXPECT_NE(cut.Find(kSiteA, "three.txt"), nullptr);

  WriteTestFile(LogPath(), Join({lines[0], lines[1], lines[1], lines[2]}));
  EXPECT_FALSE(Load().chain_ok());
}

TEST_F(BlockLogTest, GarbageLinesAreReportedAndSkipped) {
  ASSERT_TRUE(Add(kSiteA, "one.txt").ok());
  ASSERT_TRUE(Add(kSiteA, "two.txt").ok());
  std::vector<std::string> lines = Lines(ReadTestFile(LogPath()));
  for (const std::string& bad :
       {std::string("not json"), std::string("{\"seq\": 2}"), std::string("[1,2]"),
        std::string(kMaxBlockLogLineBytes + 1, 'x')}) {
    WriteTestFile(LogPath(), Join({lines[0], bad, lines[1]}));
    BlockList list = Load();
    EXPECT_FALSE(list.chain_ok()) << bad.substr(0, 20);
    EXPECT_NE(list.chain_error().find("line 2"), std::string::npos) << list.chain_error();
    EXPECT_NE(list.chain_error().find("problems in all"), std::string::npos) << list.chain_error();
    EXPECT_NE(list.Find(kSiteA, "one.txt"), nullptr);
    EXPECT_NE(list.Find(kSiteA, "two.txt"), nullptr);  // fail safe: still applies
    EXPECT_EQ(list.entries(), 3u);
  }
}

TEST_F(BlockLogTest, AnIncompleteLastLineIsIgnoredThenDroppedByTheNextAppend) {
  ASSERT_TRUE(Add(kSiteA, "one.txt").ok());
  std::string log = ReadTestFile(LogPath());
  const std::string head = Load().head_hash();
  WriteTestFile(LogPath(), log + "{\"action\":\"block\",\"blocked_by\":\"urn:x\",\"pa");
  BlockList torn = Load();
  EXPECT_TRUE(torn.chain_ok()) << torn.chain_error();
  EXPECT_NE(torn.tail_warning().find("line 2 is incomplete"), std::string::npos) << torn.tail_warning();
  EXPECT_EQ(torn.entries(), 1u);
  EXPECT_EQ(torn.head_hash(), head);

  auto next = Add(kSiteA, "two.txt");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->seq, 2u);
  BlockList list = Load();
  EXPECT_TRUE(list.chain_ok()) << list.chain_error();
  EXPECT_TRUE(list.tail_warning().empty());
  EXPECT_EQ(list.entries(), 2u);
  EXPECT_EQ(Lines(ReadTestFile(LogPath())).size(), 2u);
}

TEST_F(BlockLogTest, FieldsAreCheckedBeforeAnythingIsWritten) {
  EXPECT_EQ(Add("not-a-site", "x").status().code(), StatusCode::kInvalidArgument);
  for (const char* path : {"/abs", "a//b", "../x", "a/./b", "a/..", "a\nb", "a\x01"}) {
    EXPECT_EQ(Add(kSiteA, path).status().code(), StatusCode::kInvalidArgument) << path;
  }
  EXPECT_EQ(Add(kSiteA, std::string(3000, 'p')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(kSiteA, "x", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(kSiteA, "x", "two\nlines").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(kSiteA, "x", std::string(kMaxBlockReasonBytes + 1, 'r')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Add(kSiteA, "x", "bad \xff utf-8").status().code(), StatusCode::kInvalidArgument);
  for (const char* uri : {"no-scheme", "https://a b", "https://x/<script>", "1http://x", "x:",
                          "https://x/\"", "https://\xc3\xa9"}) {
    Block b = MakeBlock(kSiteA, "x");
    b.blocked_by = uri;
    EXPECT_EQ(AppendBlock(home_.path(), b, clock_).status().code(), StatusCode::kInvalidArgument) << uri;
  }
  Block long_uri = MakeBlock(kSiteA, "x");
  long_uri.blocked_by = "https://example.org/" + std::string(kMaxBlockedByBytes, 'a');
  EXPECT_EQ(AppendBlock(home_.path(), long_uri, clock_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Load().entries(), 0u);
  for (const char* uri : {"mailto:legal@example.org", "urn:refuge:node-operator", "https://e.org/a?b=c#d"}) {
    EXPECT_TRUE(ValidateBlockedBy(uri).ok()) << uri;
  }
  // Quotes and backslashes in paths and reasons are fine (escaped in the JSON line).
  ASSERT_TRUE(Add(kSiteA, "we\"ird\\name.txt", "quote \" and \\ backslash").ok());
  EXPECT_NE(Load().Find(kSiteA, "we\"ird\\name.txt"), nullptr);
}

TEST_F(BlockLogTest, LoadingIsBounded) {
  std::string many;
  for (uint64_t i = 0; i <= kMaxBlockLogEntries; ++i) many += "x\n";
  auto too_many = BlockList::Parse(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kTooLarge);
  auto too_big = BlockList::Parse(std::string(kMaxBlockLogBytes + 1, '\n'));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kTooLarge);
}

TEST_F(BlockLogTest, TheFingerprintChangesWithEachAppend) {
  ASSERT_TRUE(Add(kSiteA, "one.txt").ok());
  auto before = BlockLogFingerprint(home_.path());
  ASSERT_TRUE(before.ok());
  EXPECT_NE(*before, "none");
  ASSERT_TRUE(Add(kSiteA, "two.txt").ok());
  EXPECT_NE(*BlockLogFingerprint(home_.path()), *before);
}

TEST(BlockTargetTest, ParsesSiteAndPath) {
  auto whole = ParseBlockTarget(kSiteA);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->site_id, kSiteA);
  EXPECT_EQ(whole->path, "");
  EXPECT_EQ(ParseBlockTarget(kSiteA + "/")->path, "");
  EXPECT_EQ(ParseBlockTarget(kSiteA + "/docs/a b.txt")->path, "docs/a b.txt");
  EXPECT_EQ(ParseBlockTarget(kSiteA + "/docs/")->path, "docs/");
  EXPECT_FALSE(ParseBlockTarget("short/x").ok());
  EXPECT_FALSE(ParseBlockTarget(kSiteA + "//x").ok());
  EXPECT_FALSE(ParseBlockTarget(kSiteA + "/../x").ok());
  EXPECT_FALSE(ParseBlockTarget("").ok());
}

// ---------------------------------------------------------------------------------------
// What a block does to the store

class BlockStoreTest : public refuge::testing::NodeWithSiteTest {
 protected:
  void SetUp() override {
    NodeWithSiteTest::SetUp();
    WriteTestFile(source_.Sub("index.html"), "home");
    WriteTestFile(source_.Sub("secret.txt"), "secret bytes");
    WriteTestFile(source_.Sub("docs/a.txt"), "doc a");
    WriteTestFile(source_.Sub("docs/b.txt"), "doc b");
    WriteTestFile(source_.Sub("copy-of-a.txt"), "doc a");  // the same object as docs/a.txt
    ASSERT_TRUE(PublishSource().ok());
  }

  BlockList BlockAndPurge(const std::string& path, BlockPurge* purge) {
    Block b;
    b.site_id = site_id_;
    b.path = path;
    b.reason = "order";
    EXPECT_TRUE(AppendBlock(home_->path(), b, clock_).ok());
    auto list = BlockList::Load(home_->path());
    EXPECT_TRUE(list.ok());
    auto r = RemoveBlockedObjects(*home_, *list);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) *purge = *r;
    return std::move(list).value();
  }

  bool Stored(const std::string& content) { return home_->store().Contains(Sha256Hex(content)); }
};

TEST_F(BlockStoreTest, ABlockedFileStopsBeingStoredAndVerifySaysBlocked) {
  BlockPurge purge;
  BlockAndPurge("secret.txt", &purge);
  EXPECT_EQ(purge.objects_blocked, 1u);
  EXPECT_EQ(purge.objects_removed, 1u);
  EXPECT_EQ(purge.bytes_freed, std::string("secret bytes").size());
  EXPECT_FALSE(Stored("secret bytes"));
  EXPECT_TRUE(Stored("home"));

  auto report = VerifyNode(*home_, std::nullopt, clock_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems[0].message;
  bool said_blocked = false;
  for (const VerifyFinding& w : report->warnings) {
    said_blocked = said_blocked || (w.message.find(Sha256Hex("secret bytes")) != std::string::npos &&
                                    w.message.find("blocked") != std::string::npos);
  }
  EXPECT_TRUE(said_blocked);

  auto gc = CollectGarbage(*home_, GcOptions{});
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_TRUE(Stored("home"));
  // A later publish may store the bytes again; purging again removes them again.
  ASSERT_TRUE(PublishSource().ok());
  EXPECT_TRUE(Stored("secret bytes"));
  auto list = BlockList::Load(home_->path());
  auto again = RemoveBlockedObjects(*home_, *list);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->objects_removed, 1u);
}

TEST_F(BlockStoreTest, ObjectsAnUnblockedFileAlsoUsesAreKept) {
  BlockPurge purge;
  BlockAndPurge("docs/", &purge);
  EXPECT_EQ(purge.objects_blocked, 1u);  // doc b; doc a is also copy-of-a.txt
  EXPECT_FALSE(Stored("doc b"));
  EXPECT_TRUE(Stored("doc a"));
}

TEST_F(BlockStoreTest, AWholeSiteBlockRemovesItsFilesButKeepsItsMetadata) {
  BlockPurge purge;
  BlockList list = BlockAndPurge("", &purge);
  EXPECT_EQ(purge.objects_removed, 4u);
  for (const char* content : {"home", "secret bytes", "doc a", "doc b"}) EXPECT_FALSE(Stored(content)) << content;
  auto metadata = home_->db().ListMetadata(site_id_);
  ASSERT_TRUE(metadata.ok());
  for (const MetadataRow& m : *metadata) EXPECT_TRUE(home_->store().Contains(m.sha256)) << m.role;

  auto served = BlockedObjects(*home_, list, true);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->size(), 4u + metadata->size());
  auto verify = VerifyNode(*home_, site_id_, clock_);
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->problems.empty()) << verify->problems[0].message;
}

TEST_F(BlockStoreTest, ABrokenAuditLogIsAVerifyProblem) {
  BlockPurge purge;
  BlockAndPurge("secret.txt", &purge);
  std::string log = ReadTestFile(BlockLogPath(home_->path()));
  WriteTestFile(BlockLogPath(home_->path()), "x" + log);
  auto report = VerifyNode(*home_, std::nullopt, clock_);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->problems.empty());
  EXPECT_NE(report->problems[0].message.find("audit log"), std::string::npos);
}

}  // namespace
}  // namespace refuge
