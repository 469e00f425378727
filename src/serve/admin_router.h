// AdminRouter: the admin listener (loopback by default): GET /metrics in the Prometheus
// text format (docs/SERVE.md lists every metric) and GET /healthz ("ok").
//
// Thread-safety: one per event loop (the admin listener lives on the first loop).
#ifndef REFUGE_SERVE_ADMIN_ROUTER_H_
#define REFUGE_SERVE_ADMIN_ROUTER_H_

#include "serve/metrics.h"
#include "serve/site_router.h"

namespace refuge::serve {

class AdminRouter final : public RequestHandler {
 public:
  explicit AdminRouter(const ServerMetrics& metrics) : metrics_(metrics) {}
  void Handle(const RequestHead& request, Response* out) override;

 private:
  const ServerMetrics& metrics_;
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_ADMIN_ROUTER_H_
