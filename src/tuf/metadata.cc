#include "tuf/metadata.h"

#include <openssl/evp.h>

#include <set>

#include "common/clock.h"
#include "common/limits.h"
#include "crypto/sha256.h"

namespace refuge::tuf {

namespace {

// --- Typed field access that never throws ----------------------------------------------------

Status Missing(const std::string& field) { return Corruption("missing or mistyped field \"" + field + "\""); }

Result<const Json*> Field(const Json& obj, const std::string& name, Json::value_t type) {
  auto it = obj.find(name);
  if (it == obj.end()) return Missing(name);
  bool ok = it->type() == type ||
            (type == Json::value_t::number_integer && it->is_number_unsigned());
  if (!ok) return Missing(name);
  return &*it;
}

Result<std::string> StringField(const Json& obj, const std::string& name) {
  REFUGE_ASSIGN_OR_RETURN(const Json* v, Field(obj, name, Json::value_t::string));
  return v->get<std::string>();
}

Result<int64_t> IntField(const Json& obj, const std::string& name) {
  REFUGE_ASSIGN_OR_RETURN(const Json* v, Field(obj, name, Json::value_t::number_integer));
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Corruption("field \"" + name + "\" is out of range");
  }
  return v->get<int64_t>();
}

Result<int64_t> PositiveIntField(const Json& obj, const std::string& name) {
  REFUGE_ASSIGN_OR_RETURN(int64_t v, IntField(obj, name));
  if (v < 1) return Corruption("field \"" + name + "\" must be at least 1");
  return v;
}

Result<std::vector<std::string>> StringList(const Json& obj, const std::string& name) {
  REFUGE_ASSIGN_OR_RETURN(const Json* v, Field(obj, name, Json::value_t::array));
  std::vector<std::string> out;
  for (const Json& e : *v) {
    if (!e.is_string()) return Missing(name);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> Hashes(const Json& obj) {
  REFUGE_ASSIGN_OR_RETURN(const Json* v, Field(obj, "hashes", Json::value_t::object));
  std::map<std::string, std::string> out;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) return Missing("hashes");
    out[it.key()] = it.value().get<std::string>();
  }
  if (out.empty()) return Corruption("\"hashes\" is empty");
  return out;
}

Result<Key> ParseKey(const Json& j) {
  if (!j.is_object()) return Corruption("a key is not an object");
  Key key;
  REFUGE_ASSIGN_OR_RETURN(key.keytype, StringField(j, "keytype"));
  REFUGE_ASSIGN_OR_RETURN(key.scheme, StringField(j, "scheme"));
  REFUGE_ASSIGN_OR_RETURN(const Json* keyval, Field(j, "keyval", Json::value_t::object));
  REFUGE_ASSIGN_OR_RETURN(std::string pub_hex, StringField(*keyval, "public"));
  if (key.keytype == "ed25519") {
    auto raw = HexDecode(pub_hex);
    if (!raw.ok() || raw->size() != kEd25519PublicKeyBytes) {
      return Corruption("ed25519 public key is not 32 bytes of hex");
    }
    key.public_raw = std::move(raw).value();
  }
  key.json = j;
  return key;
}

Result<std::map<std::string, Key>> ParseKeys(const Json& obj) {
  REFUGE_ASSIGN_OR_RETURN(const Json* keys, Field(obj, "keys", Json::value_t::object));
  std::map<std::string, Key> out;
  for (auto it = keys->begin(); it != keys->end(); ++it) {
    auto key = ParseKey(it.value());
    if (!key.ok()) return key.status().Annotate("key " + it.key());
    out.emplace(it.key(), std::move(key).value());
  }
  return out;
}

Result<RoleKeys> ParseRoleKeys(const Json& obj) {
  RoleKeys role;
  REFUGE_ASSIGN_OR_RETURN(role.keyids, StringList(obj, "keyids"));
  REFUGE_ASSIGN_OR_RETURN(role.threshold, PositiveIntField(obj, "threshold"));
  std::set<std::string> unique(role.keyids.begin(), role.keyids.end());
  if (unique.size() != role.keyids.size()) return Corruption("a role lists a key ID twice");
  return role;
}

Result<MetaFile> ParseMetaFile(const Json& obj) {
  if (!obj.is_object()) return Corruption("a meta entry is not an object");
  MetaFile meta;
  REFUGE_ASSIGN_OR_RETURN(meta.version, PositiveIntField(obj, "version"));
  if (obj.contains("length")) {
    REFUGE_ASSIGN_OR_RETURN(int64_t len, IntField(obj, "length"));
    if (len < 0) return Corruption("negative length");
    meta.length = static_cast<uint64_t>(len);
  }
  if (obj.contains("hashes")) {
    REFUGE_ASSIGN_OR_RETURN(meta.hashes, Hashes(obj));
  }
  return meta;
}

Result<Envelope> ParseEnvelope(std::string_view bytes, const std::string& expected_type) {
  REFUGE_ASSIGN_OR_RETURN(Json doc, ParseJson(bytes));
  if (!doc.is_object()) return Corruption("metadata is not a JSON object");
  Envelope env;
  REFUGE_ASSIGN_OR_RETURN(const Json* sigs, Field(doc, "signatures", Json::value_t::array));
  if (sigs->size() > static_cast<size_t>(limits::kMaxSignatures)) {
    return TooLarge("more than " + std::to_string(limits::kMaxSignatures) + " signatures");
  }
  for (const Json& s : *sigs) {
    if (!s.is_object()) return Corruption("a signature is not an object");
    Signature sig;
    REFUGE_ASSIGN_OR_RETURN(sig.keyid, StringField(s, "keyid"));
    REFUGE_ASSIGN_OR_RETURN(sig.sig_hex, StringField(s, "sig"));
    env.signatures.push_back(std::move(sig));
  }
  REFUGE_ASSIGN_OR_RETURN(const Json* signed_json, Field(doc, "signed", Json::value_t::object));
  env.signed_json = *signed_json;
  REFUGE_ASSIGN_OR_RETURN(env.type, StringField(env.signed_json, "_type"));
  if (env.type != expected_type) {
    return Corruption("metadata type is \"" + env.type + "\", expected \"" + expected_type + "\"");
  }
  REFUGE_ASSIGN_OR_RETURN(env.spec_version, StringField(env.signed_json, "spec_version"));
  // Spec section 4: a client supports the major version it implements.
  if (env.spec_version.rfind("1.", 0) != 0 && env.spec_version != "1") {
    return Corruption("unsupported spec_version " + env.spec_version);
  }
  REFUGE_ASSIGN_OR_RETURN(env.version, PositiveIntField(env.signed_json, "version"));
  REFUGE_ASSIGN_OR_RETURN(std::string expires, StringField(env.signed_json, "expires"));
  REFUGE_ASSIGN_OR_RETURN(env.expires, ParseUtc(expires));
  auto canonical = EncodeCanonical(env.signed_json);
  if (!canonical.ok()) return Corruption(canonical.status().message());
  env.signed_canonical = std::move(canonical).value();
  return env;
}

// Code points of a UTF-8 string; a byte that does not start a valid sequence counts alone.
std::vector<uint32_t> CodePoints(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
    for (size_t k = 1; k < n; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) n = 0;
      if (n == 0) break;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    if (n == 0) {
      out.push_back(b);
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

// Does the pattern element at p[*pi] match the character c? Advances *pi past the element.
// '?' is any character; "[...]" a set ("[!...]" negated, "a-z" ranges, a ']' first is a member,
// an unclosed '[' is literal); anything else, backslash included, matches itself.
bool ElementMatches(const std::vector<uint32_t>& p, size_t* pi, uint32_t c) {
  const size_t i = *pi;
  if (p[i] == '?') {
    *pi = i + 1;
    return true;
  }
  if (p[i] == '[') {
    size_t j = i + 1;
    if (j < p.size() && p[j] == '!') ++j;
    if (j < p.size() && p[j] == ']') ++j;
    while (j < p.size() && p[j] != ']') ++j;
    if (j < p.size()) {
      *pi = j + 1;
      size_t q = i + 1;
      const bool negate = p[q] == '!';
      if (negate) ++q;
      bool member = false;
      while (q < j) {
        if (q + 2 < j && p[q + 1] == '-') {
          member = member || (p[q] <= c && c <= p[q + 2]);
          q += 3;
        } else {
          member = member || p[q] == c;
          ++q;
        }
      }
      return member != negate;
    }
  }
  *pi = i + 1;
  return p[i] == c;
}

// Shell-style match of one path segment with the semantics of Python's fnmatch (which
// python-tuf uses): on code points, independent of the process locale.
bool SegmentMatches(const std::string& pattern, const std::string& segment) {
  const std::vector<uint32_t> p = CodePoints(pattern);
  const std::vector<uint32_t> t = CodePoints(segment);
  size_t pi = 0, ti = 0;
  size_t star_p = std::string::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_t = ti;
      continue;
    }
    size_t next = pi;
    if (pi < p.size() && ElementMatches(p, &next, t[ti])) {
      pi = next;
      ++ti;
      continue;
    }
    if (star_p == std::string::npos) return false;
    pi = star_p;  // let the last '*' swallow one more character
    ti = ++star_t;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::vector<std::string> SplitSlash(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

}  // namespace

bool Key::CanVerify() const {
  return keytype == "ed25519" && scheme == "ed25519" && public_raw.size() == kEd25519PublicKeyBytes;
}

Json Ed25519KeyJson(const std::string& public_raw) {
  return Json{{"keytype", "ed25519"},
              {"scheme", "ed25519"},
              {"keyval", Json{{"public", HexEncode(public_raw)}}}};
}

std::string KeyIdOf(const Json& key_json) {
  auto canonical = EncodeCanonical(key_json);
  return Sha256Hex(canonical.ok() ? canonical.value() : std::string());
}

bool DelegatedRole::IsDelegatedPath(const std::string& target_path) const {
  if (paths) {
    std::vector<std::string> target_parts = SplitSlash(target_path);
    for (const std::string& pattern : *paths) {
      std::vector<std::string> pattern_parts = SplitSlash(pattern);
      if (pattern_parts.size() != target_parts.size()) continue;
      bool all = true;
      for (size_t i = 0; i < pattern_parts.size() && all; ++i) {
        all = SegmentMatches(pattern_parts[i], target_parts[i]);
      }
      if (all) return true;
    }
    return false;
  }
  if (path_hash_prefixes) {
    std::string digest = Sha256Hex(target_path);
    for (const std::string& prefix : *path_hash_prefixes) {
      if (digest.compare(0, prefix.size(), prefix) == 0) return true;
    }
  }
  return false;
}

Result<Root> ParseRoot(std::string_view bytes) {
  Root root;
  REFUGE_ASSIGN_OR_RETURN(root.envelope, ParseEnvelope(bytes, kRoot));
  const Json& s = root.envelope.signed_json;
  REFUGE_ASSIGN_OR_RETURN(const Json* cs, Field(s, "consistent_snapshot", Json::value_t::boolean));
  root.consistent_snapshot = cs->get<bool>();
  REFUGE_ASSIGN_OR_RETURN(root.keys, ParseKeys(s));
  REFUGE_ASSIGN_OR_RETURN(const Json* roles, Field(s, "roles", Json::value_t::object));
  for (const char* name : {kRoot, kTimestamp, kSnapshot, kTargets}) {
    REFUGE_ASSIGN_OR_RETURN(const Json* r, Field(*roles, name, Json::value_t::object));
    auto role = ParseRoleKeys(*r);
    if (!role.ok()) return role.status().Annotate(std::string("role ") + name);
    root.roles.emplace(name, std::move(role).value());
  }
  if (roles->size() != 4) return Corruption("root lists roles other than the four top-level ones");
  return root;
}

Result<Timestamp> ParseTimestamp(std::string_view bytes) {
  Timestamp ts;
  REFUGE_ASSIGN_OR_RETURN(ts.envelope, ParseEnvelope(bytes, kTimestamp));
  REFUGE_ASSIGN_OR_RETURN(const Json* meta,
                          Field(ts.envelope.signed_json, "meta", Json::value_t::object));
  if (meta->size() != 1 || !meta->contains("snapshot.json")) {
    return Corruption("timestamp meta must list exactly snapshot.json");
  }
  REFUGE_ASSIGN_OR_RETURN(ts.snapshot_meta, ParseMetaFile(meta->at("snapshot.json")));
  return ts;
}

Result<Snapshot> ParseSnapshot(std::string_view bytes) {
  Snapshot snap;
  REFUGE_ASSIGN_OR_RETURN(snap.envelope, ParseEnvelope(bytes, kSnapshot));
  REFUGE_ASSIGN_OR_RETURN(const Json* meta,
                          Field(snap.envelope.signed_json, "meta", Json::value_t::object));
  for (auto it = meta->begin(); it != meta->end(); ++it) {
    auto m = ParseMetaFile(it.value());
    if (!m.ok()) return m.status().Annotate("meta " + it.key());
    snap.meta.emplace(it.key(), std::move(m).value());
  }
  if (!snap.meta.count("targets.json")) return Corruption("snapshot does not list targets.json");
  return snap;
}

Result<Targets> ParseTargets(std::string_view bytes) {
  Targets t;
  REFUGE_ASSIGN_OR_RETURN(t.envelope, ParseEnvelope(bytes, kTargets));
  const Json& s = t.envelope.signed_json;
  REFUGE_ASSIGN_OR_RETURN(const Json* targets, Field(s, "targets", Json::value_t::object));
  for (auto it = targets->begin(); it != targets->end(); ++it) {
    const Json& e = it.value();
    if (!e.is_object()) return Corruption("target " + it.key() + " is not an object");
    TargetFile tf;
    auto len = IntField(e, "length");
    if (!len.ok() || *len < 0 || static_cast<uint64_t>(*len) > limits::kMaxTargetBytes) {
      return Corruption("target " + it.key() + " has a missing or impossible length");
    }
    tf.length = static_cast<uint64_t>(*len);
    auto hashes = Hashes(e);
    if (!hashes.ok()) return hashes.status().Annotate("target " + it.key());
    tf.hashes = std::move(hashes).value();
    if (e.contains("custom")) tf.custom = e.at("custom");
    t.targets.emplace(it.key(), std::move(tf));
  }
  if (s.contains("delegations")) {
    REFUGE_ASSIGN_OR_RETURN(const Json* d, Field(s, "delegations", Json::value_t::object));
    Delegations del;
    REFUGE_ASSIGN_OR_RETURN(del.keys, ParseKeys(*d));
    REFUGE_ASSIGN_OR_RETURN(const Json* roles, Field(*d, "roles", Json::value_t::array));
    std::set<std::string> names;
    for (const Json& r : *roles) {
      if (!r.is_object()) return Corruption("a delegated role is not an object");
      DelegatedRole role;
      REFUGE_ASSIGN_OR_RETURN(role.name, StringField(r, "name"));
      if (role.name.empty() || role.name == kRoot || role.name == kTimestamp ||
          role.name == kSnapshot || role.name == kTargets || !names.insert(role.name).second) {
        return Corruption("delegated role name \"" + role.name + "\" is reserved or repeated");
      }
      REFUGE_ASSIGN_OR_RETURN(role.keys, ParseRoleKeys(r));
      REFUGE_ASSIGN_OR_RETURN(const Json* term, Field(r, "terminating", Json::value_t::boolean));
      role.terminating = term->get<bool>();
      if (r.contains("paths")) {
        REFUGE_ASSIGN_OR_RETURN(role.paths, StringList(r, "paths"));
      }
      if (r.contains("path_hash_prefixes")) {
        REFUGE_ASSIGN_OR_RETURN(role.path_hash_prefixes, StringList(r, "path_hash_prefixes"));
      }
      if (role.paths.has_value() == role.path_hash_prefixes.has_value()) {
        return Corruption("delegated role " + role.name +
                          " must have exactly one of paths and path_hash_prefixes");
      }
      del.roles.push_back(std::move(role));
    }
    t.delegations = std::move(del);
  }
  return t;
}

Status VerifyThreshold(const Envelope& envelope, const std::map<std::string, Key>& keys,
                       const RoleKeys& role, const std::string& role_name) {
  std::set<std::string> counted_keyids;
  std::set<std::string> counted_public_keys;
  for (const Signature& sig : envelope.signatures) {
    if (counted_keyids.count(sig.keyid)) continue;
    bool authorized = false;
    for (const std::string& id : role.keyids) authorized = authorized || id == sig.keyid;
    if (!authorized) continue;
    auto key = keys.find(sig.keyid);
    if (key == keys.end() || !key->second.CanVerify()) continue;
    if (counted_public_keys.count(key->second.public_raw)) continue;
    auto raw_sig = HexDecode(sig.sig_hex);
    if (!raw_sig.ok()) continue;
    if (!Ed25519Verify(key->second.public_raw, envelope.signed_canonical, raw_sig.value())) continue;
    counted_keyids.insert(sig.keyid);
    counted_public_keys.insert(key->second.public_raw);
  }
  if (static_cast<int64_t>(counted_keyids.size()) < role.threshold) {
    return VerificationFailed(role_name + " metadata version " + std::to_string(envelope.version) +
                              " has " + std::to_string(counted_keyids.size()) +
                              " valid signature(s) from " + role_name +
                              " keys, threshold is " + std::to_string(role.threshold));
  }
  return Status::Ok();
}

Status VerifyByRoot(const Envelope& envelope, const Root& root, const std::string& role_name) {
  auto role = root.roles.find(role_name);
  if (role == root.roles.end()) return Internal("root has no role " + role_name);
  return VerifyThreshold(envelope, root.keys, role->second, role_name);
}

Status CheckLengthAndHashes(std::string_view data, std::optional<uint64_t> length,
                            const std::map<std::string, std::string>& hashes,
                            const std::string& what) {
  if (length && data.size() != *length) {
    return VerificationFailed(what + ": length " + std::to_string(data.size()) + " != expected " +
                              std::to_string(*length));
  }
  bool checked = false;
  for (const auto& [algo, expected] : hashes) {
    std::string actual;
    if (algo == "sha256") {
      actual = Sha256Hex(data);
    } else if (algo == "sha512") {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int md_len = 0;
      if (EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha512(), nullptr) != 1) {
        return Internal("sha512 failed");
      }
      actual = HexEncode(md, md_len);
    } else {
      continue;  // not understood; another, understood hash must be present
    }
    checked = true;
    if (!ConstantTimeEquals(actual, expected)) {
      return VerificationFailed(what + ": " + algo + " does not match the signed hash");
    }
  }
  if (!hashes.empty() && !checked) {
    return VerificationFailed(what + ": none of the signed hashes is sha256 or sha512");
  }
  return Status::Ok();
}

Result<std::string> SignMetadata(const Json& signed_json, const std::vector<Signer>& signers) {
  REFUGE_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonical(signed_json));
  Json sigs = Json::array();
  for (const Signer& s : signers) {
    sigs.push_back(Json{{"keyid", s.keyid}, {"sig", HexEncode(s.key->Sign(canonical))}});
  }
  Json doc{{"signed", signed_json}, {"signatures", std::move(sigs)}};
  try {
    return doc.dump();
  } catch (const Json::exception& e) {  // invalid UTF-8 in a string the caller built
    return InvalidArgument(std::string("metadata cannot be written as JSON: ") + e.what());
  }
}

Json MetaFileJson(const MetaFile& meta) {
  Json j{{"version", meta.version}};
  if (meta.length) j["length"] = *meta.length;
  if (!meta.hashes.empty()) j["hashes"] = meta.hashes;
  return j;
}

Json TargetFileJson(const TargetFile& target) {
  Json j{{"length", target.length}, {"hashes", target.hashes}};
  if (!target.custom.is_null()) j["custom"] = target.custom;
  return j;
}

}  // namespace refuge::tuf
