// ContentTypeFor: the Content-Type of a publication's file by its last extension.
#include "serve/mime_types.h"

#include <gtest/gtest.h>

namespace refuge::serve {
namespace {

constexpr std::string_view kOctetStream = "application/octet-stream";

TEST(MimeTypesTest, TableIsSorted) { EXPECT_TRUE(MimeTableIsSorted()); }

TEST(MimeTypesTest, TextTypesCarryACharset) {
  EXPECT_EQ(ContentTypeFor("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("/index.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("/notes.txt"), "text/plain; charset=utf-8");
}

TEST(MimeTypesTest, BinaryTypes) {
  EXPECT_EQ(ContentTypeFor("/logo.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("/logo.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("/font.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("/font.woff"), "font/woff");
  EXPECT_EQ(ContentTypeFor("/data.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("/site.webmanifest"), "application/manifest+json");
}

TEST(MimeTypesTest, FirstAndLastEntriesAreFound) {
  EXPECT_EQ(ContentTypeFor("/a.7z"), "application/x-7z-compressed");
  EXPECT_EQ(ContentTypeFor("/a.zst"), "application/zstd");
}

TEST(MimeTypesTest, ExtensionIsCaseInsensitive) {
  EXPECT_EQ(ContentTypeFor("/INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("/Photo.JpG"), "image/jpeg");
}

TEST(MimeTypesTest, OnlyTheLastExtensionCounts) {
  EXPECT_EQ(ContentTypeFor("/archive.tar.gz"), "application/gzip");
  EXPECT_EQ(ContentTypeFor("/page.html.bak"), kOctetStream);
}

TEST(MimeTypesTest, UnknownExtensionIsOctetStream) {
  EXPECT_EQ(ContentTypeFor("/a.exe"), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/a.htmlx"), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/a.a"), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/a.zzzz"), kOctetStream);
}

TEST(MimeTypesTest, NoExtensionIsOctetStream) {
  EXPECT_EQ(ContentTypeFor("/README"), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/"), kOctetStream);
  EXPECT_EQ(ContentTypeFor(""), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/name."), kOctetStream);
}

TEST(MimeTypesTest, DotInADirectoryNameIsNotAnExtension) {
  EXPECT_EQ(ContentTypeFor("/v1.html/README"), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/docs.css/"), kOctetStream);
}

TEST(MimeTypesTest, DotfileIsOctetStream) {
  EXPECT_EQ(ContentTypeFor("/.htaccess"), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/a/.bashrc"), kOctetStream);
}

TEST(MimeTypesTest, OverlongExtensionIsOctetStream) {
  EXPECT_EQ(ContentTypeFor("/a." + std::string(17, 'x')), kOctetStream);
  EXPECT_EQ(ContentTypeFor("/a." + std::string(5000, 'h')), kOctetStream);
}

}  // namespace
}  // namespace refuge::serve
