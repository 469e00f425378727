#include "serve/shield_gate.h"

#include <memory>
#include <string>

#include "serve/request_path.h"

namespace refuge::serve {

namespace {

// What a shield answer points to while it is sent.
struct Answer {
  std::string page;
  std::string header;  // Set-Cookie or Refuge-Challenge value
  std::string location;
};

std::string_view QueryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace

ShieldGate::ShieldGate(shield::Shield& shield)
    : shield_(shield), page_(shield.config().nojs_delay_seconds) {}

bool ShieldGate::Screen(const shield::ClientAddress& client, const RequestHead& request,
                        int64_t now_ms, int64_t wall_s, Response* out, bool* cleared) const {
  using Verdict = shield::Shield::Verdict;
  const std::string_view path = StripQuery(request.target);
  Verdict v = shield_.Check(client, path, request.cookie, now_ms, wall_s);
  *cleared = v.cleared;
  switch (v.kind) {
    case Verdict::kServe:
      return false;
    case Verdict::kLimit:
    case Verdict::kBan:
      SetErrorResponse(out, 429);
      out->retry_after = v.retry_after;
      if (v.kind == Verdict::kBan) out->close = true;
      return true;
    case Verdict::kChallenge:
      Challenge(client, request, v.bits, wall_s, out);
      return true;
    case Verdict::kSolve: {
      const std::string_view query = QueryOf(request.target);
      Clear(shield_.Solve(client, shield::FindQueryParam(query, "s"),
                          shield::FindQueryParam(query, "n"), now_ms, wall_s),
            query, out);
      return true;
    }
    case Verdict::kWait: {
      const std::string_view query = QueryOf(request.target);
      Clear(shield_.Wait(client, shield::FindQueryParam(query, "t"), now_ms, wall_s), query, out);
      return true;
    }
  }
  return false;
}

void ShieldGate::Challenge(const shield::ClientAddress& client, const RequestHead& request,
                           int bits, int64_t wall_s, Response* out) const {
  const shield::Clearance& clearance = shield_.clearance();
  auto answer = std::make_shared<Answer>();
  std::string seed = clearance.MakeSeed(client, bits, wall_s);
  answer->page = page_.Render(seed, bits, clearance.MakeTicket(client, wall_s), request.target);
  answer->header = seed + " " + std::to_string(bits);
  out->status = 503;
  out->content_type = "text/html; charset=utf-8";
  out->cache_control = kNoStoreCacheControl;
  out->challenge = answer->header;
  out->body = Response::Body::kMemory;
  out->memory = answer->page;
  out->total_length = answer->page.size();
  out->memory_hold = std::move(answer);
}

void ShieldGate::Clear(const shield::Shield::Clearing& clearing, std::string_view query,
                       Response* out) const {
  if (clearing.retry_after > 0) {
    SetErrorResponse(out, 429);
    out->retry_after = clearing.retry_after;
    return;
  }
  if (clearing.check != shield::ClearanceCheck::kOk) {
    SetErrorResponse(out, 403);
    return;
  }
  auto answer = std::make_shared<Answer>();
  answer->location = shield::DecodeReturnPath(shield::FindQueryParam(query, "r"));
  answer->header = std::string(shield::kCookieName) + "=" + clearing.cookie +
                   "; Path=/; Max-Age=" + std::to_string(shield_.config().clearance_seconds) +
                   "; HttpOnly; SameSite=Lax";
  SetErrorResponse(out, 303);
  out->location = answer->location;
  out->set_cookie = answer->header;
  out->memory_hold = std::move(answer);
}

}  // namespace refuge::serve
