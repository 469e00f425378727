// Canonical JSON: refuge's EncodeCanonical against securesystemslib's encode_canonical, on
// random documents generated at test time on each side.
#include <cstdint>
#include <iterator>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"
#include "crypto/sha256.h"
#include "interop/python_runner.h"
#include "support/temp_dir.h"

namespace refuge::interop {
namespace {

using refuge::testing::TempDir;

// Stop reporting after this many mismatching vectors; one is enough to act on.
constexpr int kMaxReportedMismatches = 5;

TEST(CanonicalJsonInteropTest, RefugeMatchesSecuresystemslibOnPythonVectors) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  TempDir dir;
  const std::string path = dir.Sub("python_vectors.json");
  ASSERT_TRUE(Succeeded(RunPythonScript(
      "canonical_json_interop.py",
      {"generate", "--seed", std::to_string(seed), "--count", "500", "--out", path}, dir.path())));
  auto vectors = ReadJsonFile(path);
  ASSERT_TRUE(vectors.ok()) << vectors.status().ToString();
  ASSERT_TRUE(vectors->is_array());
  ASSERT_GE(vectors->size(), 500u);

  int mismatches = 0;
  for (size_t i = 0; i < vectors->size() && mismatches < kMaxReportedMismatches; ++i) {
    const std::string& text = (*vectors)[i].at("json").get_ref<const std::string&>();
    const std::string& expected_hex = (*vectors)[i].at("canonical_hex").get_ref<const std::string&>();
    auto parsed = ParseJson(text);
    if (!parsed.ok()) {
      ++mismatches;
      ADD_FAILURE() << "vector " << i << ": ParseJson refused what Python wrote: "
                    << parsed.status().ToString() << "\n" << text;
      continue;
    }
    auto canonical = EncodeCanonical(*parsed);
    if (!canonical.ok() || HexEncode(*canonical) != expected_hex) {
      ++mismatches;
      ADD_FAILURE() << "vector " << i << ": canonical bytes differ\n  securesystemslib: "
                    << expected_hex << "\n  refuge:           "
                    << (canonical.ok() ? HexEncode(*canonical) : canonical.status().ToString())
                    << "\n  input: " << text;
    }
  }
}

// Random JSON values built in C++, so that the other direction does not depend on Python's
// generator or on nlohmann's parser.
class RandomJson {
 public:
  explicit RandomJson(uint64_t seed) : rng_(seed) {}

  Json Value(int depth) {
    const uint64_t kinds = depth < 6 ? 7 : 4;
    switch (Below(kinds)) {
      case 0: return nullptr;
      case 1: return Below(2) == 0;
      case 2: return Integer();
      case 3: return String(10);
      case 4: {
        Json array = Json::array();
        for (uint64_t n = Below(6); n > 0; --n) array.push_back(Value(depth + 1));
        return array;
      }
      default: {
        Json object = Json::object();
        for (uint64_t n = Below(7); n > 0; --n) object[Key()] = Value(depth + 1);
        return object;
      }
    }
  }

 private:
  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  Json Integer() {
    switch (Below(5)) {
      case 0: return static_cast<int64_t>(Below(21)) - 10;
      case 1: return static_cast<int64_t>(rng_());  // any int64, often negative
      case 2: return rng_();                        // any uint64
      case 3: return INT64_MIN;
      default: return UINT64_MAX;
    }
  }

  // Code points weighted toward what canonical JSON can get wrong; never a surrogate.
  uint32_t CodePoint() {
    static constexpr uint32_t kSpecials[] = {'"', '\\', '/', 0, 0x7f, 0x2028, 0xfeff, 0xffff,
                                             0x10000, 0x1f600, 0x10ffff};
    struct Range {
      uint32_t low, high;
    };
    static constexpr Range kRanges[] = {{0x20, 0x7e},   {0x20, 0x7e},     {0x00, 0x1f},
                                        {0x80, 0x7ff},  {0x800, 0xd7ff},  {0xe000, 0xffff},
                                        {0x10000, 0x10ffff}};
    if (Below(7) == 0) return kSpecials[Below(std::size(kSpecials))];
    const Range& r = kRanges[Below(std::size(kRanges))];
    return r.low + static_cast<uint32_t>(Below(r.high - r.low + 1));
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  std::string String(uint64_t max_length) {
    std::string s;
    for (uint64_t n = Below(max_length + 1); n > 0; --n) AppendUtf8(CodePoint(), s);
    return s;
  }

  std::string Key() {
    static constexpr const char* kCommon[] = {"", "a", "ab", "b", "A", "_type",
                                              "\xef\xbf\xbf" /* U+FFFF */,
                                              "\xf0\x90\x80\x80" /* U+10000 */};
    return Below(3) == 0 ? kCommon[Below(std::size(kCommon))] : String(6);
  }

  std::mt19937_64 rng_;
};

TEST(CanonicalJsonInteropTest, SecuresystemslibMatchesRefugeOnRefugeVectors) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  RandomJson random(seed);
  Json vectors = Json::array();
  for (int i = 0; i < 500; ++i) {
    Json value = random.Value(0);
    auto canonical = EncodeCanonical(value);
    ASSERT_TRUE(canonical.ok()) << canonical.status().ToString();
    vectors.push_back(Json{{"value", value}, {"canonical_hex", HexEncode(*canonical)}});
  }
  TempDir dir;
  const std::string path = dir.Sub("refuge_vectors.json");
  WriteJsonFile(path, vectors);
  PythonRun run =
      RunPythonScript("canonical_json_interop.py", {"check", "--in", path}, dir.path());
  ASSERT_TRUE(Succeeded(run));
  EXPECT_EQ(run.stdout_text, "checked 500\n");
}

}  // namespace
}  // namespace refuge::interop
