#include "mirror/announcement.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_util.h"
#include "crypto/canonical_json.h"
#include "crypto/sha256.h"
#include "node/mirror_list.h"
#include "node/node_home.h"

namespace refuge::mirror {

Result<std::shared_ptr<const Ed25519PrivateKey>> LoadOrCreateNodeKey(const std::string& home_path) {
  const std::string dir = home_path + "/keys";
  const std::string path = dir + "/node.pem";
  if (!PathExists(path)) {
    REFUGE_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
    REFUGE_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
    // Written aside, then linked into place: link(2) never replaces an existing file, so when
    // two processes race to create the key, the second one's link fails and it reads the
    // first one's key below.
    const std::string temp = TempName(dir, "node-key-");
    REFUGE_RETURN_IF_ERROR(key.Save(temp));
    const int linked = ::link(temp.c_str(), path.c_str());
    const int err = errno;
    ::unlink(temp.c_str());
    if (linked != 0 && err != EEXIST) return ErrnoStatus("link " + path, err);
    REFUGE_RETURN_IF_ERROR(FsyncDirectory(dir));
  }
  REFUGE_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Load(path));
  return std::make_shared<const Ed25519PrivateKey>(std::move(key));
}

Result<std::string> MakeAnnouncement(const Ed25519PrivateKey& key, const std::string& site_id,
                                     const std::vector<std::string>& urls, int64_t now) {
  Json signed_json{{"_type", "announce"},
                   {"site", site_id},
                   {"urls", urls},
                   {"key", HexEncode(key.PublicKey())},
                   {"time", now}};
  REFUGE_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonical(signed_json));
  Json body{{"signed", signed_json}, {"signature", HexEncode(key.Sign(canonical))}};
  return EncodeCanonical(body);
}

Result<AnnouncementRow> VerifyAnnouncement(std::string_view body, int64_t now) {
  if (body.size() > kMaxAnnouncementBytes) return TooLarge("announcement larger than 32 KiB");
  REFUGE_ASSIGN_OR_RETURN(Json j, ParseJson(body));
  auto bad = [](const std::string& why) { return InvalidArgument("announcement: " + why); };
  if (!j.is_object() || !j.contains("signed") || !j["signed"].is_object() ||
      !j.contains("signature") || !j["signature"].is_string()) {
    return bad("expected {\"signed\": {...}, \"signature\": \"...\"}");
  }
  const Json& s = j["signed"];
  auto str = [&](const char* k) -> const Json* {
    auto it = s.find(k);
    return it != s.end() && it->is_string() ? &*it : nullptr;
  };
  if (!str("_type") || s["_type"] != "announce") return bad("_type is not \"announce\"");
  if (!str("site") || !IsSiteId(s["site"].get<std::string>())) return bad("no valid site ID");
  if (!str("key")) return bad("no key");
  if (!s.contains("time") || !s["time"].is_number_integer()) return bad("no time");
  if (!s.contains("urls") || !s["urls"].is_array() || s["urls"].empty() ||
      s["urls"].size() > kMaxAnnouncedUrls) {
    return bad("urls must be a list of 1 to 8 URLs");
  }
  auto key = HexDecode(s["key"].get<std::string>());
  if (!key.ok() || key->size() != kEd25519PublicKeyBytes) return bad("key is not a hex Ed25519 key");
  auto sig = HexDecode(j["signature"].get<std::string>());
  if (!sig.ok()) return bad("signature is not hex");
  REFUGE_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonical(s));
  if (!Ed25519Verify(*key, canonical, *sig)) {
    return VerificationFailed("announcement: bad signature");
  }
  const int64_t time = s["time"].get<int64_t>();
  if (time < now - kAnnounceMaxSkewSeconds || time > now + kAnnounceMaxSkewSeconds) {
    return VerificationFailed("announcement: time is more than 10 minutes away from ours");
  }
  AnnouncementRow row;
  row.site_id = s["site"].get<std::string>();
  row.public_key = s["key"].get<std::string>();
  row.key_id = Sha256Hex(*key);
  row.received_at = now;
  for (const Json& u : s["urls"]) {
    if (!u.is_string()) return bad("a URL is not a string");
    auto url = NormalizeNodeUrl(u.get<std::string>());
    if (!url.ok()) return bad(url.status().message());
    row.urls.push_back(*url);
  }
  return row;
}

}  // namespace refuge::mirror
