#include "serve/admin_router.h"

#include <memory>
#include <string>

namespace refuge::serve {

void AdminRouter::Handle(const RequestHead& request, Response* out) {
  std::string_view path = StripQuery(request.target);
  if (path == "/shield/mode") {
    if (request.method != Method::kPost) {
      SetErrorResponse(out, 405);
      out->allow = "POST";
      return;
    }
    std::string_view body = request.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
      body.remove_suffix(1);
    }
    shield::AttackMode mode;
    if (!shield::ParseAttackMode(body, &mode)) {
      SetErrorResponse(out, 400);
      return;
    }
    shield_.SetMode(mode);
    path = "/shield";  // answer with the new status
  } else if (request.method != Method::kGet && request.method != Method::kHead) {
    SetErrorResponse(out, 405);
    out->allow = "GET, HEAD";
    return;
  }
  std::shared_ptr<const std::string> body;
  if (path == "/shield") {
    body = std::make_shared<const std::string>(shield_.StatusJson(now_ms_) + "\n");
    out->content_type = "application/json";
  } else if (path == "/metrics") {
    body = std::make_shared<const std::string>(RenderPrometheus(metrics_));
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (path == "/healthz") {
    body = std::make_shared<const std::string>("ok\n");
    out->content_type = "text/plain; charset=utf-8";
  } else {
    SetErrorResponse(out, 404);
    return;
  }
  out->status = 200;
  out->cache_control = kNoStoreCacheControl;
  out->body = Response::Body::kMemory;
  out->memory = *body;
  out->total_length = body->size();
  out->memory_hold = std::move(body);
}

}  // namespace refuge::serve
