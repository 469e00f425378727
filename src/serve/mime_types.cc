#include "serve/mime_types.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace refuge::serve {

namespace {

struct MimeEntry {
  std::string_view extension;  // lowercase, without the dot
  std::string_view type;
};

// Sorted by extension (checked by a unit test) for binary search.
constexpr std::array<MimeEntry, 44> kTypes = {{
    {"7z", "application/x-7z-compressed"},
    {"atom", "application/atom+xml"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"epub", "application/epub+zip"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"m4a", "audio/mp4"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rss", "application/rss+xml"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
}};

constexpr size_t kMaxExtensionBytes = 16;

}  // namespace

std::string_view ContentTypeFor(std::string_view path) {
  constexpr std::string_view kDefault = "application/octet-stream";
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || name.size() - dot - 1 > kMaxExtensionBytes) {
    return kDefault;
  }
  char lower[kMaxExtensionBytes];
  std::string_view ext = name.substr(dot + 1);
  for (size_t i = 0; i < ext.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(ext[i])));
  }
  std::string_view key(lower, ext.size());
  auto it = std::lower_bound(kTypes.begin(), kTypes.end(), key,
                             [](const MimeEntry& e, std::string_view k) { return e.extension < k; });
  if (it == kTypes.end() || it->extension != key) return kDefault;
  return it->type;
}

bool MimeTableIsSorted() {
  return std::is_sorted(kTypes.begin(), kTypes.end(),
                        [](const MimeEntry& a, const MimeEntry& b) { return a.extension < b.extension; });
}

}  // namespace refuge::serve
