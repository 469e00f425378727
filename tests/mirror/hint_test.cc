// Notify hints (mirror/notifier.h): {"site", "version", "from"}, untrusted input from any
// address. ParseHint is strict and bounded; SerializeHint round-trips through it.
#include <string>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"
#include "mirror/notifier.h"

namespace refuge::mirror {
namespace {

const std::string kSite = std::string(52, 'a');

std::string Body(const Json& j) { return j.dump(); }

TEST(HintTest, SerializeThenParseRoundTrips) {
  const Hint hint{kSite, 42, "http://203.0.113.7:8080"};
  auto parsed = ParseHint(SerializeHint(hint));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->site_id, hint.site_id);
  EXPECT_EQ(parsed->version, hint.version);
  EXPECT_EQ(parsed->from, hint.from);
}

TEST(HintTest, SerializedHintIsCanonicalJson) {
  EXPECT_EQ(SerializeHint(Hint{kSite, 7, "http://a.example"}),
            "{\"from\":\"http://a.example\",\"site\":\"" + kSite + "\",\"version\":7}");
}

TEST(HintTest, EmptyFromRoundTrips) {
  auto parsed = ParseHint(SerializeHint(Hint{kSite, 1, ""}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->from, "");
}

TEST(HintTest, MissingFromIsAllowed) {
  auto parsed = ParseHint(Body(Json{{"site", kSite}, {"version", 3}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->version, 3);
  EXPECT_EQ(parsed->from, "");
}

TEST(HintTest, FromIsNormalized) {
  auto parsed = ParseHint(Body(Json{{"site", kSite}, {"version", 3}, {"from", "http://a.example:80//"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->from, "http://a.example:80");
}

TEST(HintTest, UnknownFieldsAreIgnored) {
  auto parsed = ParseHint(Body(Json{{"site", kSite}, {"version", 3}, {"extra", Json::array({1, 2})}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
}

TEST(HintTest, LargestVersionIsAccepted) {
  auto parsed = ParseHint(Body(Json{{"site", kSite}, {"version", INT64_MAX}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->version, INT64_MAX);
}

TEST(HintTest, NonPositiveOrNonIntegerVersionsAreRefused) {
  for (const std::string& version : {std::string("0"), std::string("-1"),
                                     std::string("\"2\""), std::string("null"), std::string("true"),
                                     std::string("[3]"), std::string("18446744073709551615"),
                                     std::string("9223372036854775808")}) {
    const std::string body = "{\"site\":\"" + kSite + "\",\"version\":" + version + "}";
    auto parsed = ParseHint(body);
    ASSERT_FALSE(parsed.ok()) << "accepted: " << body;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(HintTest, FractionalVersionIsRefused) {
  // Refuge's JSON parser refuses floats outright (canonical JSON has none).
  EXPECT_FALSE(ParseHint("{\"site\":\"" + kSite + "\",\"version\":1.5}").ok());
  EXPECT_FALSE(ParseHint("{\"site\":\"" + kSite + "\",\"version\":2e0}").ok());
}

TEST(HintTest, MissingVersionIsRefused) {
  auto parsed = ParseHint(Body(Json{{"site", kSite}}));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
}

TEST(HintTest, InvalidSitesAreRefused) {
  for (const Json& site : {Json("short"), Json(std::string(52, 'A')), Json(std::string(52, '1')),
                           Json(std::string(53, 'a')), Json(5), Json(nullptr)}) {
    auto parsed = ParseHint(Body(Json{{"site", site}, {"version", 1}}));
    ASSERT_FALSE(parsed.ok()) << "accepted site " << site.dump();
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(ParseHint(Body(Json{{"version", 1}})).ok());
}

TEST(HintTest, FromThatIsNotANodeUrlIsRefused) {
  for (const Json& from : {Json("ftp://a.example"), Json("a.example"), Json("http://"),
                           Json("http://a.example/?x"), Json("http://a b"), Json(7),
                           Json(Json::array()), Json(nullptr)}) {
    auto parsed = ParseHint(Body(Json{{"site", kSite}, {"version", 1}, {"from", from}}));
    ASSERT_FALSE(parsed.ok()) << "accepted from " << from.dump();
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(HintTest, NonObjectsAndGarbageAreRefused) {
  for (const std::string& body : {std::string(""), std::string("garbage"), std::string("[]"),
                                  std::string("42"), std::string("\"hint\""), std::string("{"),
                                  std::string("{\"site\":\"") + kSite + "\",\"version\":1} trailing",
                                  std::string("\xff\xfe{}", 4)}) {
    EXPECT_FALSE(ParseHint(body).ok()) << "accepted: " << body;
  }
}

TEST(HintTest, BodyAtTheLimitIsParsedAndOneByteMoreIsTooLarge) {
  std::string body = SerializeHint(Hint{kSite, 1, "http://a.example"});
  body.append(kMaxHintBytes - body.size(), ' ');  // trailing whitespace is still valid JSON
  ASSERT_EQ(body.size(), kMaxHintBytes);
  EXPECT_TRUE(ParseHint(body).ok());
  body.push_back(' ');
  auto parsed = ParseHint(body);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace refuge::mirror
