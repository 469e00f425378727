// SiteRouter: what each URL of the node layout answers, without sockets.
#include "serve/site_router.h"

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "node/block_list.h"
#include "publish/publisher.h"
#include "support/node_with_site.h"

namespace refuge::serve {
namespace {

using refuge::testing::WriteTestFile;

class SiteRouterTest : public refuge::testing::NodeWithSiteTest {
 protected:
  void SetUp() override {
    NodeWithSiteTest::SetUp();
    WriteTestFile(source_.Sub("index.html"), kIndex);
    WriteTestFile(source_.Sub("docs/index.html"), "docs");
    WriteTestFile(source_.Sub("a b.txt"), "spaced");
    WriteTestFile(source_.Sub("big.bin"), std::string(300 * 1024, 'z'));
    ASSERT_TRUE(PublishSource().ok());
    router_ = std::make_unique<SiteRouter>(*home_, cache_, counters_);
    SetState("");
  }

  void SetState(const std::string& default_site) {
    Catalog::BuildReport report;
    auto state = std::make_shared<ServeState>();
    state->catalog = Catalog::Build(*home_, nullptr, registry_, &report);
    state->hosts.emplace("example.test", site_id_);
    state->default_site = default_site;
    state->path_cache_control = "public, max-age=60";
    auto blocks = BlockList::Load(home_->path());
    ASSERT_TRUE(blocks.ok()) << blocks.status().ToString();
    if (!blocks->empty()) {
      auto built = BuildServeBlocks(*home_, std::make_shared<const BlockList>(std::move(blocks).value()));
      ASSERT_TRUE(built.ok()) << built.status().ToString();
      state->blocks = std::move(built).value();
    }
    router_->SetState(state);
  }

  // Blocks `path` of `site` (default: the test's site) and reloads the router's state.
  void BlockPath(const std::string& path, const std::string& site = "") {
    Block b;
    b.site_id = site.empty() ? site_id_ : site;
    b.path = path;
    b.reason = kReason;
    b.blocked_by = "https://example.org/legal";
    auto r = AppendBlock(home_->path(), b, clock_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    SetState("");
  }

  // The last response was a 451 with the Link header and the reason, escaped, on its page.
  void Expect451(const std::string& what) {
    EXPECT_EQ(response_.status, 451) << what;
    EXPECT_EQ(response_.link, "<https://example.org/legal>; rel=\"blocked-by\"") << what;
    EXPECT_NE(Body().find("Order 7 &lt;b&gt;&amp; co&lt;/b&gt;"), std::string::npos) << what << Body();
    EXPECT_EQ(Body().find("<b>"), std::string::npos) << what;
    EXPECT_EQ(response_.cache_control, kNoStoreCacheControl) << what;
  }

  // Routes a GET (or `method`) for `target`; `request_` may be adjusted first.
  Response& Route(const std::string& target, Method method = Method::kGet) {
    target_ = target;
    request_.target = target_;
    request_.method = method;
    if (request_.host.empty()) request_.host = "127.0.0.1:8080";
    response_.Reset();
    response_.head_only = method == Method::kHead;
    router_->Handle(request_, &response_);
    return response_;
  }

  std::string Body() const {
    if (response_.body != Response::Body::kMemory) return "<not in memory>";
    std::string_view m = response_.memory;
    if (response_.partial) m = m.substr(response_.first, response_.last - response_.first + 1);
    return std::string(m);
  }

  std::string SitePath(const std::string& rest) const { return "/s/" + site_id_ + "/" + rest; }

  static constexpr const char* kIndex = "<h1>home</h1>";
  static constexpr const char* kReason = "Order 7 <b>& co</b>";
  ObjectCache cache_{1 << 20, 256 * 1024};
  LoopCounters counters_;
  SiteCounterRegistry registry_;
  std::unique_ptr<SiteRouter> router_;
  RequestHead request_;
  std::string target_;
  Response response_;
};

TEST_F(SiteRouterTest, SitePathServesTheFileWithValidators) {
  Response& r = Route(SitePath("docs/index.html"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(), "docs");
  EXPECT_EQ(r.etag_hex, Sha256Hex("docs"));
  EXPECT_EQ(r.cache_control, "public, max-age=60");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_GE(r.last_modified, 0);
}

TEST_F(SiteRouterTest, DirectoryPathServesItsIndex) {
  EXPECT_EQ(Route(SitePath("")).status, 200);
  EXPECT_EQ(Body(), kIndex);
  EXPECT_EQ(Route(SitePath("docs/")).status, 200);
  EXPECT_EQ(Body(), "docs");
}

TEST_F(SiteRouterTest, DirectoryWithoutSlashRedirects) {
  Response& r = Route(SitePath("docs?x=1"));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.location, SitePath("docs/"));
  EXPECT_EQ(Route("/s/" + site_id_).status, 301);
  EXPECT_EQ(response_.location, "/s/" + site_id_ + "/");
}

TEST_F(SiteRouterTest, PercentEncodedNamesResolve) {
  EXPECT_EQ(Route(SitePath("a%20b.txt")).status, 200);
  EXPECT_EQ(Body(), "spaced");
}

TEST_F(SiteRouterTest, UnknownPathsAndSitesAre404) {
  EXPECT_EQ(Route(SitePath("nope.html")).status, 404);
  EXPECT_EQ(Route("/s/" + std::string(52, 'a') + "/").status, 404);
  EXPECT_EQ(Route("/s/short/").status, 404);
  EXPECT_EQ(Route("/s/" + site_id_ + "x/index.html").status, 404);
}

TEST_F(SiteRouterTest, TraversalAndEncodedSlashesAre400) {
  for (const char* bad : {"../x", "%2e%2e/x", "docs%2Findex.html", "docs//index.html", "a%00b"}) {
    EXPECT_EQ(Route(SitePath(bad)).status, 400) << bad;
    EXPECT_TRUE(response_.close) << bad;
  }
}

TEST_F(SiteRouterTest, LargeObjectsAreSentFromTheFile) {
  Response& r = Route(SitePath("big.bin"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Response::Body::kFile);
  EXPECT_TRUE(r.file.valid());
  EXPECT_EQ(r.total_length, 300u * 1024);
}

TEST_F(SiteRouterTest, HeadHasTheLengthOfGet) {
  Response& r = Route(SitePath("index.html"), Method::kHead);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.total_length, std::string(kIndex).size());
  EXPECT_EQ(r.BodyBytes(), 0u);
}

TEST_F(SiteRouterTest, IfNoneMatchGives304) {
  const std::string inm = "W/\"other\", \"" + Sha256Hex(kIndex) + "\"";
  request_.if_none_match = inm;
  EXPECT_EQ(Route(SitePath("index.html")).status, 304);
  EXPECT_EQ(response_.BodyBytes(), 0u);
  request_.if_none_match = "\"something-else\"";
  EXPECT_EQ(Route(SitePath("index.html")).status, 200);
}

TEST_F(SiteRouterTest, IfModifiedSinceGives304WhenNotNewer) {
  request_.if_modified_since = "Tue, 19 Jan 2038 03:14:07 GMT";
  EXPECT_EQ(Route(SitePath("index.html")).status, 304);
  request_.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
  EXPECT_EQ(Route(SitePath("index.html")).status, 200);
}

TEST_F(SiteRouterTest, SingleRangeGives206) {
  request_.range = "bytes=1-3";
  Response& r = Route(SitePath("index.html"));
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(Body(), "h1>");
}

TEST_F(SiteRouterTest, UnsatisfiableRangeGives416) {
  request_.range = "bytes=1000-";
  EXPECT_EQ(Route(SitePath("index.html")).status, 416);
}

TEST_F(SiteRouterTest, IfRangeWithAnotherTagSendsEverything) {
  request_.range = "bytes=1-3";
  request_.if_range = "\"0000\"";
  EXPECT_EQ(Route(SitePath("index.html")).status, 200);
  std::string tag = "\"" + Sha256Hex(kIndex) + "\"";
  request_.if_range = tag;
  EXPECT_EQ(Route(SitePath("index.html")).status, 206);
}

TEST_F(SiteRouterTest, MappedHostServesItsSite) {
  request_.host = "EXAMPLE.test:8080";
  EXPECT_EQ(Route("/docs/").status, 200);
  EXPECT_EQ(Body(), "docs");
}

TEST_F(SiteRouterTest, UnmappedHostGetsTheNodePageOrTheDefaultSite) {
  request_.host = "unknown.test";
  EXPECT_EQ(Route("/").status, 200);
  EXPECT_NE(Body().find("refuge node"), std::string::npos);
  EXPECT_EQ(Route("/index.html").status, 404);
  SetState(site_id_);
  EXPECT_EQ(Route("/").status, 200);
  EXPECT_EQ(Body(), kIndex);
}

TEST_F(SiteRouterTest, ObjectsAreImmutable) {
  Response& r = Route("/.refuge/v1/objects/" + Sha256Hex(kIndex));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(), kIndex);
  EXPECT_EQ(r.cache_control, kImmutableCacheControl);
  EXPECT_EQ(Route("/.refuge/v1/objects/" + Sha256Hex("never stored")).status, 404);
  EXPECT_EQ(Route("/.refuge/v1/objects/xyz").status, 404);
}

TEST_F(SiteRouterTest, MetadataIsServedWithTheRightCachePolicy) {
  std::string base = "/.refuge/v1/sites/" + site_id_ + "/metadata/";
  EXPECT_EQ(Route(base + "1.root.json").status, 200);
  EXPECT_EQ(response_.cache_control, kImmutableCacheControl);
  EXPECT_EQ(response_.content_type, "application/json");
  EXPECT_EQ(Route(base + "timestamp.json").status, 200);
  EXPECT_EQ(response_.cache_control, "public, max-age=60");
  EXPECT_EQ(Route(base + "9.root.json").status, 404);
}

TEST_F(SiteRouterTest, TargetsAreServedByPathAndByHash) {
  std::string base = "/.refuge/v1/sites/" + site_id_ + "/targets/";
  EXPECT_EQ(Route(base + "docs/index.html").status, 200);
  EXPECT_EQ(Body(), "docs");
  EXPECT_EQ(Route(base + "docs/" + Sha256Hex("docs") + ".index.html").status, 200);
  EXPECT_EQ(response_.cache_control, kImmutableCacheControl);
}

TEST_F(SiteRouterTest, OtherMethodsAre405AndOptionsIs204) {
  EXPECT_EQ(Route(SitePath(""), Method::kPost).status, 405);
  EXPECT_EQ(response_.allow, "GET, HEAD, OPTIONS");
  EXPECT_EQ(Route("*", Method::kOptions).status, 204);
}

TEST_F(SiteRouterTest, SiteRequestsAreCountedPerSite) {
  Route(SitePath(""));
  ASSERT_NE(response_.site, nullptr);
  EXPECT_EQ(response_.site, registry_.For(site_id_));
}

}  // namespace
}  // namespace refuge::serve

namespace refuge::serve {
namespace {

// --- 451 Unavailable For Legal Reasons ------------------------------------------------------

TEST_F(SiteRouterTest, ABlockedPathIs451OnEveryUrlThatReachesIt) {
  BlockPath("docs/index.html");
  const std::string targets = "/.refuge/v1/sites/" + site_id_ + "/targets/";
  for (const std::string& url :
       {SitePath("docs/index.html"), SitePath("docs/"), targets + "docs/index.html",
        targets + "docs/" + Sha256Hex("docs") + ".index.html",
        "/.refuge/v1/objects/" + Sha256Hex("docs")}) {
    Route(url);
    Expect451(url);
  }
  request_.host = "example.test";
  Route("/docs/");
  Expect451("host-mapped /docs/");
  EXPECT_EQ(response_.site, registry_.For(site_id_));  // counted for the site
  // The rest of the site, its metadata and other objects are served as before.
  request_.host = "127.0.0.1";
  EXPECT_EQ(Route(SitePath("index.html")).status, 200);
  EXPECT_EQ(Body(), kIndex);
  EXPECT_EQ(Route(targets + "index.html").status, 200);
  EXPECT_EQ(Route("/.refuge/v1/sites/" + site_id_ + "/metadata/timestamp.json").status, 200);
  EXPECT_EQ(Route("/.refuge/v1/objects/" + Sha256Hex(kIndex)).status, 200);
}

TEST_F(SiteRouterTest, HeadOfABlockedPathHasNoBody) {
  BlockPath("index.html");
  Response& r = Route(SitePath(""), Method::kHead);
  EXPECT_EQ(r.status, 451);
  EXPECT_EQ(r.BodyBytes(), 0u);
  EXPECT_GT(r.total_length, 0u);
}

TEST_F(SiteRouterTest, ADirectoryBlockCoversItsFilesAndItsRedirect) {
  BlockPath("docs/");
  Route(SitePath("docs"));
  Expect451("docs without a slash");
  Route(SitePath("docs/index.html"));
  Expect451("docs/index.html");
  EXPECT_EQ(Route(SitePath("a%20b.txt")).status, 200);
}

TEST_F(SiteRouterTest, AWholeSiteBlockCoversEveryUrlOfTheSiteItsMetadataIncluded) {
  BlockPath("");
  const std::string base = "/.refuge/v1/sites/" + site_id_;
  auto root = home_->db().GetMetadata(site_id_, "root", 1);
  ASSERT_TRUE(root.ok());
  for (const std::string& url :
       {SitePath(""), SitePath("nope.html"), "/s/" + site_id_, base + "/metadata/1.root.json",
        base + "/metadata/timestamp.json", base + "/targets/index.html",
        "/.refuge/v1/objects/" + Sha256Hex(kIndex), "/.refuge/v1/objects/" + root->sha256}) {
    Route(url);
    Expect451(url);
  }
  SetState(site_id_);  // the default site too
  request_.host = "unknown.test";
  Route("/");
  Expect451("default site");
}

TEST_F(SiteRouterTest, ASiteTheNodeDoesNotHoldCanBeBlocked) {
  const std::string other(52, 'q');
  BlockPath("x.html", other);
  Route("/s/" + other + "/x.html");
  Expect451("unheld site");
  EXPECT_EQ(Route("/s/" + other + "/y.html").status, 404);
  EXPECT_EQ(Route(SitePath("index.html")).status, 200);  // other sites are not affected
}

TEST_F(SiteRouterTest, ALiftedBlockServesAgain) {
  BlockPath("a b.txt");
  EXPECT_EQ(Route(SitePath("a%20b.txt")).status, 451);
  ASSERT_TRUE(AppendUnblock(home_->path(), site_id_, "a b.txt", "lifted", clock_).ok());
  SetState("");
  EXPECT_EQ(Route(SitePath("a%20b.txt")).status, 200);
  EXPECT_EQ(Body(), "spaced");
}

TEST_F(SiteRouterTest, The451HeadCarriesTheLinkHeader) {
  BlockPath("index.html");
  Route(SitePath(""));
  char head[kMaxResponseHeadBytes];
  std::string text(head, FormatResponseHead(response_, "Sun, 06 Nov 1994 08:49:37 GMT", head));
  EXPECT_EQ(text.rfind("HTTP/1.1 451 Unavailable For Legal Reasons\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("\r\nLink: <https://example.org/legal>; rel=\"blocked-by\"\r\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\r\nContent-Length: " + std::to_string(response_.total_length) + "\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace refuge::serve
