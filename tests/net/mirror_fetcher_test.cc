// MirrorFetcher against scripted loopback mirrors, one rule of mirror_fetcher.h at a time:
// order and preference, moving on after not-found/blocked/errors/unreachable mirrors, hedging
// and racing, stalls, buffered restarts, streamed resumes (Range honoured or not), mutable
// URLs that cannot resume, endless bodies, exclusion after bad content, the kNotFound rule,
// the not-found quorum and the attempt bound.
#include "net/mirror_fetcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/scripted_http_server.h"

namespace refuge {
namespace {

using refuge::testing::ScriptedHttpServer;
using Script = ScriptedHttpServer::Script;
using std::chrono::milliseconds;

const std::string kMeta = "/.refuge/v1/sites/s/metadata/timestamp.json";
const std::string kObject = "/.refuge/v1/objects/" + std::string(64, 'a');
const std::string kTarget = "/.refuge/v1/sites/s/targets/dir/" + std::string(64, 'b') + ".bin";
const std::string kMutableTarget = "/.refuge/v1/sites/s/targets/dir/file.bin";

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

class MirrorFetcherTest : public ::testing::Test {
 protected:
  // `n` scripted mirrors; mirrors_[i] is mirror i of the fetcher.
  void Servers(int n) {
    for (int i = 0; i < n; ++i) mirrors_.push_back(std::make_unique<ScriptedHttpServer>());
  }
  std::vector<std::string> Urls() const {
    std::vector<std::string> urls;
    for (const auto& m : mirrors_) urls.push_back(m->base_url());
    return urls;
  }
  // Fast timings for the tests that are not about the exact values.
  static MirrorFetcherOptions Quick() {
    MirrorFetcherOptions o;
    o.hedge_delay_ms = 300;
    o.stall_ms = 500;
    return o;
  }
  std::unique_ptr<MirrorFetcher> Fetcher(MirrorFetcherOptions o = Quick()) {
    return NewMirrorFetcher(Urls(), o);
  }
  // A fetch that records the chunks the sink saw.
  Status FetchInto(MirrorFetcher& f, const std::string& path, uint64_t max, std::string& out,
                   int* calls = nullptr) {
    out.clear();
    return f.FetchTo(std::string(kMirrorUrlScheme) + path, max, [&](std::string_view chunk) {
      out.append(chunk);
      if (calls != nullptr) ++*calls;
      return Status::Ok();
    });
  }
  static std::string ClosedPortUrl() {
    ScriptedHttpServer gone;
    return gone.base_url();
  }

  std::vector<std::unique_ptr<ScriptedHttpServer>> mirrors_;
};

template <typename F>
milliseconds Timed(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

// --- order and preference ---------------------------------------------------------------------

TEST_F(MirrorFetcherTest, FirstMirrorFirstThenTheOneThatLastServed) {
  Servers(2);
  mirrors_[0]->Serve(kMeta, "zero");
  mirrors_[1]->Serve(kMeta, "one");
  mirrors_[1]->Serve("/only-on-1", "x");
  auto f = Fetcher();
  std::string out;
  ASSERT_TRUE(FetchInto(*f, kMeta, 100, out).ok());
  EXPECT_EQ(out, "zero");
  EXPECT_EQ(f->last_served(), 0u);
  EXPECT_EQ(mirrors_[1]->requests().size(), 0u);
  ASSERT_TRUE(FetchInto(*f, "/only-on-1", 100, out).ok());
  EXPECT_EQ(f->last_served(), 1u);
  // Mirror 1 served last: it is asked first now.
  ASSERT_TRUE(FetchInto(*f, kMeta, 100, out).ok());
  EXPECT_EQ(out, "one");
  EXPECT_EQ(mirrors_[0]->CountRequests(kMeta), 1);
}

TEST_F(MirrorFetcherTest, MirrorsThatFailedGoLast) {
  Servers(3);
  mirrors_[0]->Answer(kMeta, 503);
  mirrors_[1]->Answer(kMeta, 503);
  mirrors_[2]->Serve(kMeta, "two");
  mirrors_[1]->Serve("/b", "b");
  mirrors_[2]->Serve("/b", "b2");
  auto f = Fetcher();
  std::string out;
  ASSERT_TRUE(FetchInto(*f, kMeta, 100, out).ok());
  // Mirror 2 is preferred now; mirror 0 and 1 failed, so they come after it.
  ASSERT_TRUE(FetchInto(*f, "/b", 100, out).ok());
  EXPECT_EQ(out, "b2");
  EXPECT_EQ(mirrors_[1]->CountRequests("/b"), 0);
}

// --- moving on ----------------------------------------------------------------------------------

TEST_F(MirrorFetcherTest, NotFoundBlockedErrorAndUnreachableMoveOnAtOnce) {
  Servers(4);
  mirrors_[0]->Answer(kMeta, 404);
  mirrors_[1]->Answer(kMeta, 451);
  mirrors_[2]->Answer(kMeta, 503);
  mirrors_[3]->Serve(kMeta, "three");
  std::vector<std::string> urls = {ClosedPortUrl()};
  for (const auto& u : Urls()) urls.push_back(u);
  MirrorFetcherOptions o;  // default timings: nothing here may wait for a hedge
  o.not_found_quorum = 5;
  auto f = NewMirrorFetcher(urls, o);
  std::string out;
  Status s;
  auto elapsed = Timed([&] { s = FetchInto(*f, kMeta, 100, out); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, "three");
  EXPECT_LT(elapsed, milliseconds(900));
  const auto& attempts = f->last_attempts();
  ASSERT_EQ(attempts.size(), 5u);
  EXPECT_EQ(attempts[0].outcome, MirrorOutcome::kUnreachable);
  EXPECT_EQ(attempts[1].outcome, MirrorOutcome::kNotFound);
  EXPECT_EQ(attempts[2].outcome, MirrorOutcome::kBlocked);
  EXPECT_EQ(attempts[3].outcome, MirrorOutcome::kFailed);
  EXPECT_EQ(attempts[3].detail, "HTTP status 503");
  EXPECT_EQ(attempts[4].outcome, MirrorOutcome::kServed);
  EXPECT_EQ(f->last_served(), 4u);
  auto states = f->states();
  EXPECT_EQ(states[0].failures, 1);
  EXPECT_EQ(states[1].not_found, 1);
  EXPECT_EQ(states[4].served, 1);
}

TEST_F(MirrorFetcherTest, ALongErrorPageIsAnErrorNotEndlessData) {
  Servers(3);
  Script missing;
  missing.status = 404;
  missing.body = std::string(5000, 'e');
  Script broken = missing;
  broken.status = 500;
  mirrors_[0]->Set(kMeta, broken);
  mirrors_[1]->Set(kMeta, missing);
  mirrors_[2]->Set(kMeta, missing);
  auto f = Fetcher();
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(f->last_attempts()[0].outcome, MirrorOutcome::kFailed);
  EXPECT_EQ(f->last_attempts()[0].detail, "HTTP status 500");
}

// --- hedging and racing -------------------------------------------------------------------------

TEST_F(MirrorFetcherTest, ASilentMirrorCostsAboutTheHedgeDelay) {
  Servers(2);
  Script slow;
  slow.body = "slow";
  slow.delay_ms = 10'000;
  mirrors_[0]->Set(kMeta, slow);
  mirrors_[1]->Serve(kMeta, "fast");
  auto f = Fetcher(MirrorFetcherOptions{});  // hedge_delay_ms 1000
  std::string out;
  Status s;
  auto elapsed = Timed([&] { s = FetchInto(*f, kMeta, 100, out); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, "fast");
  EXPECT_GE(elapsed, milliseconds(950));
  EXPECT_LT(elapsed, milliseconds(1800));
  ASSERT_EQ(f->last_attempts().size(), 2u);
  EXPECT_EQ(f->last_attempts()[0].outcome, MirrorOutcome::kCancelled);
  EXPECT_EQ(f->last_attempts()[1].outcome, MirrorOutcome::kServed);
}

TEST_F(MirrorFetcherTest, TheFirstToDeliverWinsTheRace) {
  Servers(2);
  Script late;
  late.body = "late";
  late.delay_ms = 1200;
  Script quick;
  quick.body = "quick";
  quick.delay_ms = 100;
  mirrors_[0]->Set(kMeta, late);   // started at 0, answers at 1200
  mirrors_[1]->Set(kMeta, quick);  // started at 300 (hedge), answers at 400
  auto f = Fetcher();
  std::string out;
  ASSERT_TRUE(FetchInto(*f, kMeta, 100, out).ok());
  EXPECT_EQ(out, "quick");
  EXPECT_EQ(f->last_served(), 1u);
  // ... and the winner is preferred from now on.
  mirrors_[1]->Serve("/next", "n");
  ASSERT_TRUE(FetchInto(*f, "/next", 100, out).ok());
  EXPECT_EQ(mirrors_[0]->CountRequests("/next"), 0);
}

// --- stalls -------------------------------------------------------------------------------------

TEST_F(MirrorFetcherTest, StalledMetadataRestartsWholeOnTheNextMirror) {
  Servers(2);
  const std::string body = Pattern(20'000);
  Script stall;
  stall.body = body;
  stall.stall_after = 5000;
  mirrors_[0]->Set(kMeta, stall);
  mirrors_[1]->Serve(kMeta, body);
  auto f = Fetcher();
  std::string out;
  int calls = 0;
  Status s = FetchInto(*f, kMeta, 1 << 20, out, &calls);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Buffered: the sink saw one complete body, nothing of the stalled attempt.
  EXPECT_EQ(out, body);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(f->last_attempts()[0].outcome, MirrorOutcome::kStalled);
  EXPECT_TRUE(mirrors_[1]->requests()[0].range.empty());
  EXPECT_EQ(f->last_contributors(), std::vector<size_t>{1});
}

TEST_F(MirrorFetcherTest, TheLastHopeIsNotAbandonedForSilence) {
  Servers(1);
  Script slow;
  slow.body = "eventually";
  slow.delay_ms = 1500;  // three times stall_ms
  mirrors_[0]->Set(kMeta, slow);
  auto f = Fetcher();
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, "eventually");
}

TEST_F(MirrorFetcherTest, SilentMirrorsDoNotDelayANotFoundAnswer) {
  Servers(2);
  mirrors_[0]->Answer(kMeta, 404);
  Script silent;
  silent.delay_ms = 20'000;
  silent.body = "x";
  mirrors_[1]->Set(kMeta, silent);
  auto f = Fetcher();
  std::string out;
  Status s;
  auto elapsed = Timed([&] { s = FetchInto(*f, kMeta, 100, out); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_LT(elapsed, milliseconds(1500));
}

// --- mid-stream failures ------------------------------------------------------------------------

TEST_F(MirrorFetcherTest, MetadataThatDiesMidwayIsFetchedWholeFromAnother) {
  Servers(2);
  const std::string body = Pattern(100'000);
  Script dies;
  dies.body = body;
  dies.die_after = 40'000;
  mirrors_[0]->Set(kMeta, dies);
  mirrors_[1]->Serve(kMeta, body);
  auto f = Fetcher();
  std::string out;
  int calls = 0;
  ASSERT_TRUE(FetchInto(*f, kMeta, 1 << 20, out, &calls).ok());
  EXPECT_EQ(out, body);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(f->last_attempts()[0].outcome, MirrorOutcome::kFailed);
}

MirrorFetcherOptions Streaming() {
  MirrorFetcherOptions o;
  o.hedge_delay_ms = 300;
  o.stall_ms = 500;
  o.whole_body_max_bytes = 1000;  // everything larger streams
  return o;
}

TEST_F(MirrorFetcherTest, ALargeObjectResumesWithARangeOnTheNextMirror) {
  Servers(2);
  const std::string body = Pattern(300'000);
  Script dies;
  dies.body = body;
  dies.die_after = 100'000;
  mirrors_[0]->Set(kObject, dies);
  mirrors_[1]->Serve(kObject, body);
  auto f = Fetcher(Streaming());
  std::string out;
  Status s = FetchInto(*f, kObject, body.size(), out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, body);
  ASSERT_EQ(mirrors_[1]->requests().size(), 1u);
  const auto resumed = mirrors_[1]->requests()[0];
  EXPECT_EQ(resumed.status, 206);
  const uint64_t offset = f->last_attempts()[1].offset;
  EXPECT_GT(offset, 0u);
  EXPECT_LE(offset, 100'000u);
  EXPECT_EQ(resumed.range, "bytes=" + std::to_string(offset) + "-");
  EXPECT_EQ(resumed.body_bytes, body.size() - offset);
  EXPECT_EQ(f->last_contributors(), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(f->last_served(), 1u);
}

TEST_F(MirrorFetcherTest, AResumeWorksWhenTheNextMirrorIgnoresRange) {
  Servers(2);
  const std::string body = Pattern(200'000);
  Script dies;
  dies.body = body;
  dies.die_after = 70'000;
  mirrors_[0]->Set(kTarget, dies);
  Script whole;
  whole.body = body;
  whole.honor_range = false;
  mirrors_[1]->Set(kTarget, whole);
  auto f = Fetcher(Streaming());
  std::string out;
  Status s = FetchInto(*f, kTarget, body.size(), out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, body);
  EXPECT_EQ(mirrors_[1]->requests()[0].status, 200);
  EXPECT_FALSE(mirrors_[1]->requests()[0].range.empty());
}

TEST_F(MirrorFetcherTest, AStalledStreamResumesElsewhere) {
  Servers(2);
  const std::string body = Pattern(200'000);
  Script stall;
  stall.body = body;
  stall.stall_after = 50'000;
  mirrors_[0]->Set(kObject, stall);
  mirrors_[1]->Serve(kObject, body);
  auto f = Fetcher(Streaming());
  std::string out;
  Status s = FetchInto(*f, kObject, body.size(), out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, body);
  EXPECT_EQ(f->last_attempts()[0].outcome, MirrorOutcome::kStalled);
  EXPECT_EQ(mirrors_[1]->requests()[0].status, 206);
}

TEST_F(MirrorFetcherTest, AMutableUrlCannotResume) {
  Servers(2);
  const std::string body = Pattern(200'000);
  Script dies;
  dies.body = body;
  dies.die_after = 50'000;
  mirrors_[0]->Set(kMutableTarget, dies);
  mirrors_[1]->Serve(kMutableTarget, body);
  auto f = Fetcher(Streaming());
  std::string out;
  Status s = FetchInto(*f, kMutableTarget, body.size(), out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("cannot be resumed"), std::string::npos) << s.ToString();
  EXPECT_EQ(mirrors_[1]->requests().size(), 0u);
}

TEST_F(MirrorFetcherTest, AMutableUrlRestartsIfNothingWasDelivered) {
  Servers(2);
  const std::string body = Pattern(200'000);
  mirrors_[0]->Answer(kMutableTarget, 500);
  mirrors_[1]->Serve(kMutableTarget, body);
  auto f = Fetcher(Streaming());
  std::string out;
  ASSERT_TRUE(FetchInto(*f, kMutableTarget, body.size(), out).ok());
  EXPECT_EQ(out, body);
}

// --- bounds -------------------------------------------------------------------------------------

TEST_F(MirrorFetcherTest, AnEndlessMirrorIsCutAndTheNextServes) {
  Servers(2);
  Script endless;
  endless.endless = true;
  mirrors_[0]->Set(kMeta, endless);
  mirrors_[1]->Serve(kMeta, std::string(5000, 'm'));
  auto f = Fetcher();
  std::string out;
  ASSERT_TRUE(FetchInto(*f, kMeta, 10'000, out).ok());
  EXPECT_EQ(out, std::string(5000, 'm'));
  EXPECT_EQ(f->last_attempts()[0].outcome, MirrorOutcome::kTooLarge);
  EXPECT_LT(mirrors_[0]->requests()[0].body_bytes, uint64_t{16} << 20);
}

TEST_F(MirrorFetcherTest, OnlyEndlessMirrorsIsTooLarge) {
  Servers(2);
  Script endless;
  endless.endless = true;
  mirrors_[0]->Set(kMeta, endless);
  mirrors_[1]->Set(kMeta, endless);
  auto f = Fetcher();
  std::string out;
  EXPECT_EQ(FetchInto(*f, kMeta, 10'000, out).code(), StatusCode::kTooLarge);
  EXPECT_LE(out.size(), 10'000u);
}

TEST_F(MirrorFetcherTest, AttemptsAreBounded) {
  Servers(5);
  for (auto& m : mirrors_) m->Answer(kMeta, 503);
  MirrorFetcherOptions o = Quick();
  o.max_attempts = 3;
  auto f = Fetcher(o);
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  int asked = 0;
  for (auto& m : mirrors_) asked += m->CountRequests(kMeta);
  EXPECT_EQ(asked, 3);
}

// --- the result rule ----------------------------------------------------------------------------

TEST_F(MirrorFetcherTest, NotFoundStopsAtTheQuorum) {
  Servers(4);
  for (auto& m : mirrors_) m->Answer(kMeta, 404);
  auto f = Fetcher();
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_FALSE(IsBlockedByMirror(s));
  EXPECT_EQ(mirrors_[0]->CountRequests(kMeta) + mirrors_[1]->CountRequests(kMeta), 2);
  EXPECT_EQ(mirrors_[2]->CountRequests(kMeta) + mirrors_[3]->CountRequests(kMeta), 0);
}

TEST_F(MirrorFetcherTest, AnUnreachableMirrorDoesNotHideANotFoundAnswer) {
  Servers(1);
  mirrors_[0]->Answer(kMeta, 410);
  auto f = NewMirrorFetcher({ClosedPortUrl(), mirrors_[0]->base_url()}, Quick());
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  // The message names what every mirror did.
  EXPECT_NE(s.message().find("HTTP 410"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(mirrors_[0]->base_url()), std::string::npos);
}

TEST_F(MirrorFetcherTest, AllBlockedSaysBlocked) {
  Servers(2);
  mirrors_[0]->Answer(kMeta, 451);
  mirrors_[1]->Answer(kMeta, 451);
  auto f = Fetcher();
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(IsBlockedByMirror(s)) << s.ToString();
  EXPECT_EQ(f->states()[0].last_outcome, MirrorOutcome::kBlocked);
}

TEST_F(MirrorFetcherTest, AllUnreachableIsUnavailable) {
  auto f = NewMirrorFetcher({ClosedPortUrl(), ClosedPortUrl()}, Quick());
  std::string out;
  Status s = FetchInto(*f, kMeta, 100, out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("no mirror could serve it"), std::string::npos);
}

TEST_F(MirrorFetcherTest, WrongContentIsExcludedByTheCallerAndNotAskedAgain) {
  Servers(2);
  mirrors_[0]->Serve(kMeta, "forged");
  mirrors_[1]->Serve(kMeta, "genuine");
  mirrors_[0]->Serve("/later", "forged");
  mirrors_[1]->Serve("/later", "genuine");
  auto f = Fetcher();
  std::string out;
  ASSERT_TRUE(FetchInto(*f, kMeta, 100, out).ok());
  EXPECT_EQ(out, "forged");
  // The caller's check fails: it excludes the mirrors that delivered and fetches again.
  for (size_t m : f->last_contributors()) f->Exclude(m, "served bytes that do not verify");
  EXPECT_EQ(f->usable_count(), 1u);
  ASSERT_TRUE(FetchInto(*f, kMeta, 100, out).ok());
  EXPECT_EQ(out, "genuine");
  ASSERT_TRUE(FetchInto(*f, "/later", 100, out).ok());
  EXPECT_EQ(mirrors_[0]->CountRequests("/later"), 0);
  EXPECT_TRUE(f->states()[0].excluded);
  f->Exclude(1, "also bad");
  EXPECT_EQ(FetchInto(*f, kMeta, 100, out).code(), StatusCode::kUnavailable);
}

TEST_F(MirrorFetcherTest, SinkErrorsComeBackUnchanged) {
  Servers(2);
  mirrors_[0]->Serve(kObject, Pattern(50'000));
  mirrors_[1]->Serve(kObject, Pattern(50'000));
  auto f = Fetcher(Streaming());
  Status s = f->FetchTo(std::string(kMirrorUrlScheme) + kObject, 50'000,
                        [](std::string_view) { return IOError("disk full"); });
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_EQ(mirrors_[1]->requests().size(), 0u);
}

TEST_F(MirrorFetcherTest, EmptyBodies) {
  Servers(1);
  mirrors_[0]->Serve(kMeta, "");
  auto f = Fetcher();
  std::string out = "x";
  ASSERT_TRUE(FetchInto(*f, kMeta, 0, out).ok());
  EXPECT_EQ(out, "");
  EXPECT_EQ(f->last_served(), 0u);
}

TEST_F(MirrorFetcherTest, BadInputs) {
  Servers(1);
  auto f = Fetcher();
  std::string out;
  EXPECT_EQ(FetchInto(*f, "", 10, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f->Fetch("http://127.0.0.1/x", 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewMirrorFetcher({}, Quick())->Fetch("mirror:/x", 10).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NewMirrorFetcher({"file:///etc"}, Quick())->Fetch("mirror:/x", 10).status().code(),
            StatusCode::kInvalidArgument);
  // Duplicates and trailing slashes collapse.
  auto twice = NewMirrorFetcher({mirrors_[0]->base_url() + "/", mirrors_[0]->base_url()});
  EXPECT_EQ(twice->mirror_count(), 1u);
  EXPECT_EQ(twice->base_url(0), mirrors_[0]->base_url());
}

TEST(MirrorUrlTest, ImmutableUrls) {
  const std::string h(64, 'c');
  EXPECT_TRUE(IsImmutableRefugeUrl("/.refuge/v1/objects/" + h));
  EXPECT_TRUE(IsImmutableRefugeUrl("/.refuge/v1/sites/x/targets/" + h + ".html"));
  EXPECT_TRUE(IsImmutableRefugeUrl("/.refuge/v1/sites/x/targets/a/b%20c/" + h + ".x"));
  EXPECT_FALSE(IsImmutableRefugeUrl("/.refuge/v1/objects/" + h + "0"));
  EXPECT_FALSE(IsImmutableRefugeUrl("/.refuge/v1/objects/" + std::string(64, 'C')));
  EXPECT_FALSE(IsImmutableRefugeUrl("/.refuge/v1/sites/x/targets/index.html"));
  EXPECT_FALSE(IsImmutableRefugeUrl("/.refuge/v1/sites/x/targets/" + h));
  EXPECT_FALSE(IsImmutableRefugeUrl("/.refuge/v1/sites/x/metadata/" + h + ".json"));
  EXPECT_FALSE(IsImmutableRefugeUrl("/.refuge/v1/sites/x/metadata/3.targets.json"));
  EXPECT_FALSE(IsImmutableRefugeUrl("/s/x/" + h + ".html"));
}

}  // namespace
}  // namespace refuge
