#include "mirror/notifier.h"

#include <curl/curl.h>

#include <memory>

#include "crypto/canonical_json.h"
#include "net/fetcher.h"
#include "node/mirror_list.h"
#include "node/node_home.h"

namespace refuge::mirror {

std::string SerializeHint(const Hint& hint) {
  Json j{{"site", hint.site_id}, {"version", hint.version}, {"from", hint.from}};
  auto bytes = EncodeCanonical(j);
  return bytes.ok() ? *bytes : std::string();
}

Result<Hint> ParseHint(std::string_view body) {
  if (body.size() > kMaxHintBytes) return TooLarge("hint larger than 4 KiB");
  REFUGE_ASSIGN_OR_RETURN(Json j, ParseJson(body));
  auto bad = [](const char* why) { return InvalidArgument(std::string("hint: ") + why); };
  if (!j.is_object()) return bad("not a JSON object");
  auto site = j.find("site");
  auto version = j.find("version");
  if (site == j.end() || !site->is_string() || !IsSiteId(site->get<std::string>())) {
    return bad("no valid \"site\"");
  }
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() < 1) {
    return bad("no positive \"version\"");
  }
  Hint hint{site->get<std::string>(), version->get<int64_t>(), ""};
  auto from = j.find("from");
  if (from != j.end()) {
    if (!from->is_string()) return bad("\"from\" is not a string");
    if (!from->get<std::string>().empty()) {
      auto url = NormalizeNodeUrl(from->get<std::string>());
      if (!url.ok()) return bad("\"from\" is not a node URL");
      hint.from = *url;
    }
  }
  return hint;
}

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::vector<PostOutcome> PostToAll(const std::vector<std::string>& urls, const std::string& body,
                                   long timeout_ms, const std::string& socks5_proxy) {
  std::vector<PostOutcome> out(urls.size());
  if (urls.empty()) return out;
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(curl_slist_append(nullptr, "Content-Type: application/json"), "Expect:"));
  std::vector<std::unique_ptr<CURL, EasyDeleter>> easies;
  for (size_t i = 0; i < urls.size(); ++i) {
    out[i].url = urls[i];
    CURL* e = curl_easy_init();
    easies.emplace_back(e);
    curl_easy_setopt(e, CURLOPT_URL, urls[i].c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "refuge");
    curl_easy_setopt(e, CURLOPT_PRIVATE, reinterpret_cast<char*>(i));
    if (!socks5_proxy.empty()) {
      auto proxy = Socks5ProxyUrl(socks5_proxy);
      if (proxy.ok()) curl_easy_setopt(e, CURLOPT_PROXY, proxy->c_str());
    }
    curl_multi_add_handle(multi.get(), e);
  }
  int running = 0;
  do {
    curl_multi_perform(multi.get(), &running);
    if (running) curl_multi_poll(multi.get(), nullptr, 0, 200, nullptr);
  } while (running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    char* priv = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    PostOutcome& o = out[reinterpret_cast<size_t>(priv)];
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &o.http_status);
    if (msg->data.result != CURLE_OK) {
      o.error = curl_easy_strerror(msg->data.result);
    } else if (o.http_status < 200 || o.http_status > 299) {
      o.error = "HTTP " + std::to_string(o.http_status);
    }
  }
  for (auto& e : easies) curl_multi_remove_handle(multi.get(), e.get());
  return out;
}

}  // namespace refuge::mirror
