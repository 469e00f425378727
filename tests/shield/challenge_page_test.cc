// ChallengePage (shield/challenge_page.h): the page of under-attack mode and the return paths
// it carries. What Render splices in, the size of the page, the return path's encoding and
// its refusal of open redirects; and the page's own script, run in node (/usr/bin/node) with
// small stubs for document, location and setTimeout: its SHA-256 against test vectors, and
// the nonce it finds accepted by Clearance::VerifySolution.
#include "shield/challenge_page.h"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "shield/clearance.h"
#include "shield/client_key.h"
#include "support/temp_dir.h"

namespace refuge::shield {
namespace {

constexpr const char* kNode = "/usr/bin/node";
constexpr int64_t kNow = 1'750'000'000;
const std::string kSeed = "684ee1800c" + std::string(32, 'a');
const std::string kTicket = "684ee180" + std::string(32, 'b');

size_t Occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The script of a rendered page (between <script> and </script>).
std::string ScriptOf(const std::string& page) {
  const size_t begin = page.find("<script>");
  const size_t end = page.find("</script>");
  EXPECT_NE(begin, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return page.substr(begin + 8, end - begin - 8);
}

// Runs `node <script file>` and returns its standard output; *exit_code gets its status.
std::string RunNode(const std::string& script_path, int* exit_code) {
  const std::string command = std::string(kNode) + " " + script_path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return "";
  }
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// A harness that stubs the browser: document.getElementById("m") gives an element whose
// texts are recorded in `texts`, setTimeout queues in `timers`, location.replace records the
// URL in `navigated`. It runs the page's script (read from `page_script_path`) as a global
// script, as a browser does, then `after`.
std::string Harness(const std::string& page_script_path, const std::string& after) {
  return "const fs = require('fs');\n"
         "let navigated = null, timers = [], slices = 0, texts = [];\n"
         "globalThis.document = {getElementById: (id) => {\n"
         "  if (id !== 'm') throw new Error('no element ' + id);\n"
         "  return {set textContent(t) { texts.push(t); }};\n"
         "}};\n"
         "globalThis.location = {replace: (url) => { navigated = url; }};\n"
         "globalThis.setTimeout = (f, ms) => { timers.push(f); };\n"
         "(0, eval)(fs.readFileSync('" + page_script_path + "', 'utf8'));\n" + after;
}

// Runs the queued slices of the search until the page navigates.
constexpr const char* kRunSearch =
    "while (navigated === null && timers.length > 0 && slices < 1000) { slices++; timers.shift()(); }\n";

class ChallengePageNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kNode, X_OK) != 0) GTEST_SKIP() << kNode << " is absent";
  }

  // Runs the script of `page` in the harness followed by `after`; returns node's output.
  std::string Run(const std::string& page, const std::string& after) {
    const std::string script = dir_.Sub("page.js");
    const std::string runner = dir_.Sub("run.js");
    testing::WriteTestFile(script, ScriptOf(page));
    testing::WriteTestFile(runner, Harness(script, after));
    int exit_code = 0;
    std::string out = RunNode(runner, &exit_code);
    EXPECT_EQ(exit_code, 0) << out;
    return out;
  }

  testing::TempDir dir_;
};

// --- rendering -----------------------------------------------------------------------------

TEST(ChallengePageTest, RenderSplicesSeedBitsTicketAndReturnPath) {
  const ChallengePage page(5);
  const std::string html = page.Render(kSeed, 12, kTicket, "/docs/index.html");
  EXPECT_NE(html.find("var S=\"" + kSeed + "\",B=12,R=\"/docs/index.html\";"), std::string::npos)
      << html;
  EXPECT_NE(html.find("content=\"5;url=/.refuge/shield/wait?t=" + kTicket +
                      "&amp;r=/docs/index.html\""),
            std::string::npos)
      << html;
}

TEST(ChallengePageTest, RenderCarriesTheEncodedReturnPathInBothPlaces) {
  const ChallengePage page(5);
  const std::string target = "/search?q=a b&x=\"><script>alert(1)</script>";
  const std::string encoded = EncodeReturnPath(target);
  const std::string html = page.Render(kSeed, 14, kTicket, target);
  EXPECT_EQ(Occurrences(html, encoded), 2u);
  EXPECT_EQ(Occurrences(html, "alert(1)</script>"), 0u);
  EXPECT_EQ(Occurrences(html, "<script>"), 1u);
  EXPECT_EQ(Occurrences(html, "</script>"), 1u);
}

TEST(ChallengePageTest, RenderUsesTheNoScriptDelay) {
  const std::string html = ChallengePage(17).Render(kSeed, 12, kTicket, "/");
  EXPECT_NE(html.find("content=\"17;url=/.refuge/shield/wait?t="), std::string::npos);
  EXPECT_NE(html.find("in 17 seconds"), std::string::npos);
}

TEST(ChallengePageTest, RenderIsAWholeDocument) {
  const std::string html = ChallengePage(5).Render(kSeed, 12, kTicket, "/");
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("<meta name=\"robots\" content=\"noindex\">"), std::string::npos);
  EXPECT_NE(html.find("id=\"m\""), std::string::npos);
}

TEST(ChallengePageTest, PageIsSmall) {
  const ChallengePage page(5);
  EXPECT_LT(page.Render(kSeed, 20, kTicket, "/some/page.html").size(), 4096u);
  // The longest return path adds at most its encoding, twice.
  const std::string longest(kMaxReturnPathBytes - 1, '"');
  const std::string html = page.Render(kSeed, 20, kTicket, "/" + longest);
  EXPECT_LT(html.size(), 4096u + 2 * 3 * kMaxReturnPathBytes);
}

// --- return paths ----------------------------------------------------------------------------

TEST(ChallengePageTest, EncodeKeepsUnreservedCharactersAndSlashes) {
  EXPECT_EQ(EncodeReturnPath("/"), "/");
  EXPECT_EQ(EncodeReturnPath("/a/B/9-._~"), "/a/B/9-._~");
}

TEST(ChallengePageTest, EncodeEscapesEverythingElse) {
  EXPECT_EQ(EncodeReturnPath("/a b"), "/a%20b");
  EXPECT_EQ(EncodeReturnPath("/p?x=1&y=2#f"), "/p%3Fx%3D1%26y%3D2%23f");
  EXPECT_EQ(EncodeReturnPath("/\"'<>\\%"), "/%22%27%3C%3E%5C%25");
  EXPECT_EQ(EncodeReturnPath("/caf\xc3\xa9"), "/caf%C3%A9");
  EXPECT_EQ(EncodeReturnPath(std::string("/\0\n", 3)), "/%00%0A");
}

TEST(ChallengePageTest, EncodeRefusesWhatIsNotAPath) {
  EXPECT_EQ(EncodeReturnPath(""), "%2F");
  EXPECT_EQ(EncodeReturnPath("index.html"), "%2F");
  EXPECT_EQ(EncodeReturnPath("http://evil.example/"), "%2F");
  EXPECT_EQ(EncodeReturnPath("*"), "%2F");
}

TEST(ChallengePageTest, EncodeRefusesTooLongPaths) {
  const std::string longest = "/" + std::string(kMaxReturnPathBytes - 1, 'a');
  EXPECT_EQ(EncodeReturnPath(longest), longest);
  EXPECT_EQ(EncodeReturnPath(longest + "a"), "%2F");
}

TEST(ChallengePageTest, EncodedPathIsSafeInQueryAttributeAndScriptString) {
  std::string every_byte = "/";
  for (int c = 1; c < 256; ++c) every_byte += static_cast<char>(c);
  for (char c : EncodeReturnPath(every_byte)) {
    const bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '%';
    EXPECT_TRUE(safe) << "byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(ChallengePageTest, DecodeRoundTripsVisiblePaths) {
  for (const std::string target :
       {"/", "/index.html", "/a/b/c?x=1&y=2", "/search?q=%20encoded", "/~user/#top",
        "/a\\b", "/p?next=//elsewhere", "/x'y\"z<>"}) {
    EXPECT_EQ(DecodeReturnPath(EncodeReturnPath(target)), target) << target;
  }
}

TEST(ChallengePageTest, DecodeAcceptsEitherHexCase) {
  EXPECT_EQ(DecodeReturnPath("/a%3fb"), "/a?b");
  EXPECT_EQ(DecodeReturnPath("/a%3Fb"), "/a?b");
}

TEST(ChallengePageTest, DecodeRefusesOpenRedirects) {
  for (const std::string encoded :
       {"//evil.example", "//evil.example/path", "/\\evil.example", "\\\\evil.example",
        "http://evil.example", "https:%2F%2Fevil.example", "%2F%2Fevil.example", "/%2Fevil.example",
        "%2f%2fevil.example", "%2F%5Cevil.example", "/%5Cevil.example", "evil.example",
        "javascript:alert(1)", ""}) {
    EXPECT_EQ(DecodeReturnPath(encoded), "/") << encoded;
  }
}

TEST(ChallengePageTest, DecodeRefusesControlAndNonAsciiBytes) {
  for (const std::string encoded :
       {"/a%00b", "/a%0Ab", "/a%0D%0ALocation:%20http://evil", "/%09/evil.example", "/a%20b",
        "/a%7Fb", "/caf%C3%A9", "/a b"}) {
    EXPECT_EQ(DecodeReturnPath(encoded), "/") << encoded;
  }
  EXPECT_EQ(DecodeReturnPath(std::string("/a\nb")), "/");
  EXPECT_EQ(DecodeReturnPath(std::string("/a\0b", 4)), "/");
}

TEST(ChallengePageTest, DecodeRefusesBrokenEscapes) {
  for (const std::string encoded : {"%", "%4", "/%", "/%4", "/a%4", "/%zz", "/%g1", "/%1g", "/%%41"}) {
    EXPECT_EQ(DecodeReturnPath(encoded), "/") << encoded;
  }
  EXPECT_EQ(DecodeReturnPath("/%41"), "/A");  // the shortest complete escape, at the end
}

TEST(ChallengePageTest, DecodeRefusesOverlongInput) {
  const std::string longest = "/" + std::string(3 * kMaxReturnPathBytes - 1, 'a');
  EXPECT_EQ(DecodeReturnPath(longest), longest);
  EXPECT_EQ(DecodeReturnPath(longest + "a"), "/");
}

TEST(ChallengePageTest, EncodedOpenRedirectDoesNotSurviveTheRoundTrip) {
  // A request for "//evil.example" is a path the node may serve, but returning to it after the
  // challenge would leave the node.
  EXPECT_EQ(DecodeReturnPath(EncodeReturnPath("//evil.example")), "/");
  EXPECT_EQ(DecodeReturnPath(EncodeReturnPath("/\\evil.example")), "/");
}

// --- the script, in node -----------------------------------------------------------------------

TEST_F(ChallengePageNodeTest, ScriptSha256MatchesTestVectors) {
  const std::string html = ChallengePage(5).Render(kSeed, 12, kTicket, "/");
  const std::string out = Run(html,
      "const hex = (H) => H.map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');\n"
      "console.log(hex(sha('')));\n"
      "console.log(hex(sha('abc')));\n"
      "console.log(hex(sha('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')));\n"
      "for (let n = 0; n <= 130; n++) console.log(hex(sha('a'.repeat(n))));\n");
  std::istringstream lines(out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line)) << out;
  EXPECT_EQ(line, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Every length across the one- and two-block paddings.
  for (size_t n = 0; n <= 130; ++n) {
    ASSERT_TRUE(std::getline(lines, line)) << "length " << n;
    EXPECT_EQ(line, Sha256Hex(std::string(n, 'a'))) << "length " << n;
  }
}

TEST_F(ChallengePageNodeTest, ScriptComputesItsConstantsOnceNotPerHash) {
  // The round constants come from cube roots of primes; computing them in every hash made
  // the search five times slower (a 16-bit challenge took seconds, not under one).
  const std::string html = ChallengePage(5).Render(kSeed, 12, kTicket, "/");
  const std::string out = Run(html,
      "let pows = 0;\n"
      "const pow = Math.pow;\n"
      "Math.pow = (a, b) => { pows++; return pow(a, b); };\n"
      "for (let n = 0; n < 100; n++) sha(S + ':' + n);\n"
      "console.log(pows);\n");
  EXPECT_EQ(out, "0\n");
}

TEST_F(ChallengePageNodeTest, ScriptLeadingZeroCheckMatchesTheNode) {
  const std::string html = ChallengePage(5).Render(kSeed, 12, kTicket, "/");
  // For 300 nonces and bits 0 to 12, the script's verdict, as a string of 0 and 1.
  const std::string out = Run(html,
      "let s = '';\n"
      "for (let n = 0; n < 300; n++) for (let b = 0; b <= 12; b++) s += ok(sha(S + ':' + n), b) ? '1' : '0';\n"
      "console.log(s);\n");
  std::string expected;
  for (int n = 0; n < 300; ++n) {
    const Sha256Digest d = Sha256Of(kSeed + ":" + std::to_string(n));
    for (int b = 0; b <= 12; ++b) expected += HasLeadingZeroBits(d.data(), d.size(), b) ? '1' : '0';
  }
  EXPECT_EQ(out, expected + "\n");
}

TEST_F(ChallengePageNodeTest, ScriptFindsANonceTheNodeAccepts) {
  const Result<Clearance> clearance = Clearance::FromHex(std::string(64, '7'));
  ASSERT_TRUE(clearance.ok());
  const ClientAddress client = ClientAddress::From(boost::asio::ip::make_address("203.0.113.5"));
  const std::string seed = clearance->MakeSeed(client, 12, kNow);
  const std::string ticket = clearance->MakeTicket(client, kNow);
  const std::string target = "/docs/page.html?x=1&y=2#top";
  const std::string html = ChallengePage(5).Render(seed, 12, ticket, target);

  const std::string out =
      Run(html, std::string(kRunSearch) + "console.log(navigated === null ? 'NONE' : navigated);\n");
  ASSERT_FALSE(out.empty());
  const std::string url = out.substr(0, out.find('\n'));
  const std::string prefix = "/.refuge/shield/solve?s=" + seed + "&n=";
  ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
  const size_t r_at = url.find("&r=", prefix.size());
  ASSERT_NE(r_at, std::string::npos) << url;
  const std::string nonce = url.substr(prefix.size(), r_at - prefix.size());
  const std::string ret = url.substr(r_at + 3);

  EXPECT_EQ(clearance->VerifySolution(seed, nonce, client, kNow + 1), ClearanceCheck::kOk)
      << "nonce " << nonce;
  EXPECT_EQ(nonce, SolveSeed(seed, 12));  // both find the smallest
  EXPECT_EQ(ret, EncodeReturnPath(target));
  EXPECT_EQ(DecodeReturnPath(ret), target);
}

TEST_F(ChallengePageNodeTest, ScriptSearchesInSlicesAndUpdatesTheMessage) {
  // 16 bits: about 65,000 hashes. Pick a seed whose smallest nonce is past the first slice of
  // 20,000 (about three seeds in four are).
  std::string seed;
  std::string expected;
  for (char c = 'a'; c <= 'f' && seed.empty(); ++c) {
    const std::string candidate = "684ee18010" + std::string(32, c);
    expected = SolveSeed(candidate, 16);
    if (std::stoull(expected) >= 20'000) seed = candidate;
  }
  ASSERT_FALSE(seed.empty());
  const std::string html = ChallengePage(5).Render(seed, 16, kTicket, "/");
  const std::string out = Run(html, std::string(kRunSearch) +
                                        "console.log(navigated);\n"
                                        "console.log(slices);\n"
                                        "console.log(texts[0]);\n");
  const size_t slices = std::stoull(expected) / 20'000 + 1;
  EXPECT_EQ(out, "/.refuge/shield/solve?s=" + seed + "&n=" + expected + "&r=/\n" +
                     std::to_string(slices) + "\n" +
                     "Checking your browser\u2026 20000 tries\n");
}

}  // namespace
}  // namespace refuge::shield
