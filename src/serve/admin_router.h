// AdminRouter: the admin listener (loopback by default): GET /metrics in the Prometheus
// text format (docs/SERVE.md lists every metric), GET /healthz ("ok"), GET /shield (the
// shield's status as JSON, for `refuge shield status`) and POST /shield/mode with a body of
// "on", "off" or "auto" (`refuge shield mode`).
//
// Thread-safety: one per event loop (the admin listener lives on the first loop).
#ifndef REFUGE_SERVE_ADMIN_ROUTER_H_
#define REFUGE_SERVE_ADMIN_ROUTER_H_

#include "serve/metrics.h"
#include "serve/site_router.h"
#include "shield/shield.h"

namespace refuge::serve {

class AdminRouter final : public RequestHandler {
 public:
  AdminRouter(const ServerMetrics& metrics, shield::Shield& shield, const int64_t& now_ms)
      : metrics_(metrics), shield_(shield), now_ms_(now_ms) {}
  void Handle(const RequestHead& request, Response* out) override;

 private:
  const ServerMetrics& metrics_;
  shield::Shield& shield_;
  const int64_t& now_ms_;  // the loop's clock
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_ADMIN_ROUTER_H_
