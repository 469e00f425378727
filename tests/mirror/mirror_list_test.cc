// MirrorList (node/mirror_list.h): the site's signed list of mirrors. Parse and serialize
// round trip, the bounds on untrusted input (entries, URL length, total size), URLs a client
// cannot use skipped, and NormalizeNodeUrl.
#include "node/mirror_list.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"

namespace refuge {
namespace {

const std::string kSite = std::string(52, 'a');

MirrorList SampleList() {
  MirrorList list;
  list.site_id = kSite;
  list.updated = 1'700'000'123;
  list.mirrors.push_back(MirrorEntry{"https://origin.example", "", "origin"});
  list.mirrors.push_back(MirrorEntry{"http://203.0.113.7:8080", std::string(64, 'b'), "mirror"});
  list.mirrors.push_back(MirrorEntry{"http://[2001:db8::1]:8080/sub", std::string(64, 'c'), "mirror"});
  return list;
}

// A list document with `n` entries whose URLs are http://m<i>.example.
std::string ListWithEntries(size_t n) {
  Json mirrors = Json::array();
  for (size_t i = 0; i < n; ++i) {
    mirrors.push_back(Json{{"url", "http://m" + std::to_string(i) + ".example"}, {"key", ""},
                           {"role", "mirror"}});
  }
  return Json{{"site", kSite}, {"updated", 1}, {"mirrors", std::move(mirrors)}}.dump();
}

// A list with one entry per URL given (role "mirror", no key).
std::string ListWithUrls(const std::vector<std::string>& urls) {
  Json mirrors = Json::array();
  for (const std::string& u : urls) mirrors.push_back(Json{{"url", u}, {"key", ""}, {"role", "mirror"}});
  return Json{{"site", kSite}, {"updated", 1}, {"mirrors", std::move(mirrors)}}.dump();
}

// --- round trip ----------------------------------------------------------------------------

TEST(MirrorListTest, SerializeThenParseGivesTheSameList) {
  const MirrorList list = SampleList();
  auto parsed = ParseMirrorList(SerializeMirrorList(list));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->site_id, list.site_id);
  EXPECT_EQ(parsed->updated, list.updated);
  ASSERT_EQ(parsed->mirrors.size(), list.mirrors.size());
  for (size_t i = 0; i < list.mirrors.size(); ++i) {
    EXPECT_EQ(parsed->mirrors[i].url, list.mirrors[i].url) << i;
    EXPECT_EQ(parsed->mirrors[i].key, list.mirrors[i].key) << i;
    EXPECT_EQ(parsed->mirrors[i].role, list.mirrors[i].role) << i;
  }
}

TEST(MirrorListTest, SerializationIsCanonicalAndStable) {
  const std::string bytes = SerializeMirrorList(SampleList());
  auto json = ParseJson(bytes);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  auto canonical = EncodeCanonical(*json);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*canonical, bytes);
  auto reparsed = ParseMirrorList(bytes);
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(SerializeMirrorList(*reparsed), bytes);
}

TEST(MirrorListTest, EmptyListRoundTrips) {
  MirrorList list;
  list.site_id = kSite;
  auto parsed = ParseMirrorList(SerializeMirrorList(list));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->mirrors.empty());
  EXPECT_EQ(parsed->updated, 0);
}

TEST(MirrorListTest, UnknownRoleIsReadAsMirrorAndMissingKeyAsEmpty) {
  const std::string doc = Json{{"site", kSite},
                               {"mirrors", Json::array({Json{{"url", "http://a.example"}, {"role", "boss"}},
                                                        Json{{"url", "http://b.example"}}})}}
                              .dump();
  auto parsed = ParseMirrorList(doc);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->mirrors.size(), 2u);
  EXPECT_EQ(parsed->mirrors[0].role, "mirror");
  EXPECT_EQ(parsed->mirrors[1].role, "mirror");
  EXPECT_EQ(parsed->mirrors[1].key, "");
  EXPECT_EQ(parsed->updated, 0);
}

TEST(MirrorListTest, ParsedUrlsAreNormalized) {
  auto parsed = ParseMirrorList(ListWithUrls({"http://a.example:8080///"}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->mirrors.size(), 1u);
  EXPECT_EQ(parsed->mirrors[0].url, "http://a.example:8080");
}

// --- bounds --------------------------------------------------------------------------------

TEST(MirrorListTest, ExactlyTheMaximumNumberOfEntriesIsAccepted) {
  auto parsed = ParseMirrorList(ListWithEntries(kMaxMirrorListEntries));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->mirrors.size(), kMaxMirrorListEntries);
}

TEST(MirrorListTest, OneEntryMoreThanTheMaximumIsRefused) {
  auto parsed = ParseMirrorList(ListWithEntries(kMaxMirrorListEntries + 1));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kCorruption) << parsed.status().ToString();
}

TEST(MirrorListTest, UrlLongerThanTheLimitIsSkippedNotFatal) {
  const std::string prefix = "http://a.example/";
  const std::string at_limit = prefix + std::string(kMaxMirrorUrlBytes - prefix.size(), 'x');
  const std::string too_long = at_limit + "x";
  auto parsed = ParseMirrorList(ListWithUrls({too_long, at_limit, "http://b.example"}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->mirrors.size(), 2u);
  EXPECT_EQ(parsed->mirrors[0].url, at_limit);
  EXPECT_EQ(parsed->mirrors[1].url, "http://b.example");
}

TEST(MirrorListTest, DocumentLargerThanOneMebibyteIsRefused) {
  // Valid JSON, but beyond the size bound.
  std::string doc = Json{{"site", kSite},
                         {"mirrors", Json::array()},
                         {"padding", std::string(kMaxMirrorListBytes, 'p')}}
                        .dump();
  ASSERT_GT(doc.size(), kMaxMirrorListBytes);
  auto parsed = ParseMirrorList(doc);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kTooLarge) << parsed.status().ToString();
}

TEST(MirrorListTest, NonHttpUrlsAreSkipped) {
  auto parsed = ParseMirrorList(ListWithUrls({"ftp://a.example", "file:///etc/passwd",
                                              "javascript:alert(1)", "gopher://x",
                                              "https://ok.example", "http://a.example/?q=1",
                                              "http://a b.example", "http://"}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->mirrors.size(), 1u);
  EXPECT_EQ(parsed->mirrors[0].url, "https://ok.example");
}

TEST(MirrorListTest, MalformedDocumentsAreRefused) {
  for (const std::string& doc : {
           std::string("not json"),
           std::string("[]"),
           std::string("{\"mirrors\": []}"),                               // no site
           std::string("{\"site\": 7, \"mirrors\": []}"),                  // site not a string
           "{\"site\": \"" + kSite + "\"}",                                // no mirrors
           "{\"site\": \"" + kSite + "\", \"mirrors\": {}}",               // not an array
           "{\"site\": \"" + kSite + "\", \"mirrors\": [\"http://a\"]}",   // entry not an object
           "{\"site\": \"" + kSite + "\", \"mirrors\": [{\"key\": \"\"}]}",  // entry without url
           "{\"site\": \"" + kSite + "\", \"mirrors\": [{\"url\": 5}]}",   // url not a string
           "{\"site\": \"" + kSite + "\", \"updated\": \"soon\", \"mirrors\": []}",
           "{\"site\": \"" + kSite + "\", \"updated\": 1.5, \"mirrors\": []}",
       }) {
    auto parsed = ParseMirrorList(doc);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << doc;
  }
}

// --- NormalizeNodeUrl ----------------------------------------------------------------------

TEST(NormalizeNodeUrlTest, TrailingSlashesAreRemoved) {
  EXPECT_EQ(NormalizeNodeUrl("http://a.example/").value(), "http://a.example");
  EXPECT_EQ(NormalizeNodeUrl("https://a.example:8443///").value(), "https://a.example:8443");
  EXPECT_EQ(NormalizeNodeUrl("http://a.example/base/").value(), "http://a.example/base");
}

TEST(NormalizeNodeUrlTest, HttpAndHttpsWithHostPortAndPathAreKept) {
  for (const std::string url : {"http://a.example", "https://a.example", "http://127.0.0.1:8080",
                                "http://[::1]:8080", "https://a.example/mirror/x"}) {
    auto n = NormalizeNodeUrl(url);
    ASSERT_TRUE(n.ok()) << url << ": " << n.status().ToString();
    EXPECT_EQ(*n, url);
  }
}

TEST(NormalizeNodeUrlTest, OtherSchemesAreRefused) {
  for (const std::string url : {"ftp://a.example", "file:///tmp", "a.example", "//a.example",
                                "httpx://a.example", "http:/a.example", ""}) {
    auto n = NormalizeNodeUrl(url);
    ASSERT_FALSE(n.ok()) << "accepted: '" << url << "'";
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(NormalizeNodeUrlTest, UrlsWithoutAHostAreRefused) {
  for (const std::string url : {"http://", "https://", "http:///path", "http://:8080", "http:////"}) {
    auto n = NormalizeNodeUrl(url);
    EXPECT_FALSE(n.ok()) << "accepted: '" << url << "'";
  }
}

TEST(NormalizeNodeUrlTest, QueryAndFragmentAreRefused) {
  EXPECT_FALSE(NormalizeNodeUrl("http://a.example/?x=1").ok());
  EXPECT_FALSE(NormalizeNodeUrl("http://a.example#top").ok());
}

TEST(NormalizeNodeUrlTest, SpacesAndControlCharactersAreRefused) {
  for (const std::string& url : {std::string("http://a .example"), std::string("http://a.example\n"),
                                std::string("http://a.example\r\nX: y"), std::string("http://a\tb"),
                                std::string("http://a\x7f"), std::string("http://a\0b", 10)}) {
    EXPECT_FALSE(NormalizeNodeUrl(url).ok()) << "accepted a URL with a control character";
  }
}

TEST(NormalizeNodeUrlTest, LengthBoundIsInclusive) {
  const std::string prefix = "http://a.example/";
  const std::string at_limit = prefix + std::string(kMaxMirrorUrlBytes - prefix.size(), 'x');
  ASSERT_EQ(at_limit.size(), kMaxMirrorUrlBytes);
  EXPECT_TRUE(NormalizeNodeUrl(at_limit).ok());
  auto too_long = NormalizeNodeUrl(at_limit + "x");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refuge
