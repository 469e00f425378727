#include "serve/node_api_router.h"

#include "common/clock.h"
#include "crypto/canonical_json.h"
#include "mirror/announcement.h"
#include "mirror/notifier.h"
#include "node/node_home.h"

namespace refuge::serve {

namespace {

constexpr std::string_view kApiPrefix = "/.refuge/v1/";
constexpr std::string_view kJson = "application/json";

bool PathIs(std::string_view target, std::string_view path) {
  return target.substr(0, target.find('?')) == path;
}

std::string ErrorJson(const std::string& message) {
  return Json{{"error", message}}.dump();
}

}  // namespace

void NodeApiRouter::Reply(Response* out, int status, std::string body) {
  ReplyShared(out, std::make_shared<const std::string>(std::move(body)));
  out->status = status;
}

void NodeApiRouter::ReplyShared(Response* out, std::shared_ptr<const std::string> body) {
  out->status = 200;
  out->content_type = kJson;
  out->cache_control = kNoStoreCacheControl;
  out->body = Response::Body::kMemory;
  out->memory = *body;
  out->total_length = body->size();
  out->memory_hold = std::move(body);
}

void NodeApiRouter::Handle(const RequestHead& request, Response* out) {
  const std::string_view target = request.target;
  if (target.size() < kApiPrefix.size() || target.compare(0, kApiPrefix.size(), kApiPrefix) != 0) {
    next_.Handle(request, out);
    return;
  }
  const bool notify = PathIs(target, mirror::kNotifyPath);
  const bool announce = PathIs(target, mirror::kAnnouncePath);
  const bool peers = PathIs(target, mirror::kPeersPath);
  const bool status = PathIs(target, mirror::kStatusPath);
  if (!notify && !announce && !peers && !status) {
    next_.Handle(request, out);
    return;
  }
  const bool post = notify || announce;
  if (post ? request.method != Method::kPost
           : request.method != Method::kGet && request.method != Method::kHead) {
    SetErrorResponse(out, 405);
    out->allow = post ? "POST" : "GET, HEAD";
    return;
  }
  if (follower_ == nullptr) {
    Reply(out, 503, ErrorJson("this node does not run the mirror follower"));
    return;
  }
  if (peers || status) {
    std::shared_ptr<const std::string> body = peers ? follower_->peers_json() : follower_->status_json();
    const size_t q = target.find("?site=");
    if (q != std::string_view::npos) {
      // One site only (what a follower asks for); unknown sites give an empty object.
      const std::string site(target.substr(q + 6));
      auto all = ParseJson(*body);
      Json filtered = Json::object();
      if (all.ok() && IsSiteId(site) && (*all)["sites"].contains(site)) {
        filtered[site] = (*all)["sites"][site];
      }
      Json reply = all.ok() ? *all : Json::object();
      reply["sites"] = std::move(filtered);
      Reply(out, 200, reply.dump());
      return;
    }
    ReplyShared(out, std::move(body));
    return;
  }
  using Verdict = mirror::Follower::Verdict;
  Verdict verdict;
  if (notify) {
    auto hint = mirror::ParseHint(request.body);
    if (!hint.ok()) {
      Reply(out, 400, ErrorJson(hint.status().message()));
      return;
    }
    verdict = follower_->OfferHint(*hint, request.peer_address);
  } else {
    auto row = mirror::VerifyAnnouncement(request.body, SystemClock::Get().NowSeconds());
    if (!row.ok()) {
      Reply(out, row.status().code() == StatusCode::kVerificationFailed ? 403 : 400,
            ErrorJson(row.status().message()));
      return;
    }
    verdict = follower_->OfferAnnouncement(std::move(row).value(), request.peer_address);
  }
  switch (verdict) {
    case Verdict::kAccepted:
      Reply(out, 202, "{\"accepted\":true}");
      return;
    case Verdict::kRateLimited:
      Reply(out, 429, ErrorJson("too many requests from this address; try again later"));
      return;
    case Verdict::kBusy:
      Reply(out, 503, ErrorJson("busy; try again later"));
      return;
  }
}

}  // namespace refuge::serve
