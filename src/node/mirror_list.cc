#include "node/mirror_list.h"

#include "crypto/canonical_json.h"

namespace refuge {

Result<std::string> NormalizeNodeUrl(std::string_view url) {
  if (url.size() > kMaxMirrorUrlBytes) return InvalidArgument("URL longer than 2048 bytes");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return InvalidArgument("URL holds a space or a control character");
    }
  }
  size_t host_start;
  if (url.rfind("http://", 0) == 0) {
    host_start = 7;
  } else if (url.rfind("https://", 0) == 0) {
    host_start = 8;
  } else {
    return InvalidArgument("not an http(s) URL: " + std::string(url));
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("a node URL has no query or fragment: " + std::string(url));
  }
  std::string out(url);
  while (out.size() > host_start && out.back() == '/') out.pop_back();
  if (out.size() == host_start || out[host_start] == '/' || out[host_start] == ':') {
    return InvalidArgument("URL without a host: " + std::string(url));
  }
  return out;
}

Result<MirrorList> ParseMirrorList(std::string_view bytes) {
  if (bytes.size() > kMaxMirrorListBytes) return TooLarge("mirror list larger than 1 MiB");
  REFUGE_ASSIGN_OR_RETURN(Json j, ParseJson(bytes));
  auto bad = [](const std::string& why) { return Corruption("mirror list: " + why); };
  if (!j.is_object()) return bad("not a JSON object");
  MirrorList list;
  auto site = j.find("site");
  if (site == j.end() || !site->is_string()) return bad("no \"site\"");
  list.site_id = site->get<std::string>();
  auto updated = j.find("updated");
  if (updated != j.end()) {
    if (!updated->is_number_integer()) return bad("\"updated\" is not an integer");
    list.updated = updated->get<int64_t>();
  }
  auto mirrors = j.find("mirrors");
  if (mirrors == j.end() || !mirrors->is_array()) return bad("no \"mirrors\" array");
  if (mirrors->size() > kMaxMirrorListEntries) return bad("more than 256 mirrors");
  for (const Json& m : *mirrors) {
    if (!m.is_object()) return bad("an entry is not an object");
    auto url = m.find("url");
    if (url == m.end() || !url->is_string()) return bad("an entry has no \"url\"");
    auto normalized = NormalizeNodeUrl(url->get<std::string>());
    if (!normalized.ok()) continue;  // a URL this client cannot use is skipped, not fatal
    MirrorEntry e;
    e.url = std::move(normalized).value();
    auto key = m.find("key");
    if (key != m.end() && key->is_string()) e.key = key->get<std::string>();
    auto role = m.find("role");
    e.role = role != m.end() && role->is_string() && role->get<std::string>() == "origin"
                 ? "origin"
                 : "mirror";
    list.mirrors.push_back(std::move(e));
  }
  return list;
}

std::string SerializeMirrorList(const MirrorList& list) {
  Json mirrors = Json::array();
  for (const MirrorEntry& e : list.mirrors) {
    mirrors.push_back(Json{{"url", e.url}, {"key", e.key}, {"role", e.role}});
  }
  Json j{{"site", list.site_id}, {"updated", list.updated}, {"mirrors", std::move(mirrors)}};
  auto bytes = EncodeCanonical(j);
  return bytes.ok() ? *bytes : std::string();  // no floats or depth here: cannot fail
}

}  // namespace refuge
