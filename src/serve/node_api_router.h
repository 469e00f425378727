// NodeApiRouter: the node-to-node endpoints, in front of the site router.
//
//   POST /.refuge/v1/notify     a hint {"site", "version", "from"}: 202, 400, 429 or 503
//   POST /.refuge/v1/announce   a mirror's signed announcement (mirror/announcement.h): 202...
//   GET  /.refuge/v1/peers      {"sites": {"<id>": ["http://...", ...]}} (?site=<id> filters)
//   GET  /.refuge/v1/status     {"node": {...}, "sites": {"<id>": {"version", "stale_since",
//                               "site_blocked", "blocked": [{"path", "reason", "since"}]}}}
//
// Everything else goes to the next handler (SiteRouter). Bodies are parsed and checked here
// (the announcement's signature too); the work (a sync, a database write) is handed to the
// Follower, so the event loop never waits on the network or the database. The JSON of peers
// and status is prepared by the Follower and sent as is.
//
// Thread-safety: one per event loop; the Follower is shared.
#ifndef REFUGE_SERVE_NODE_API_ROUTER_H_
#define REFUGE_SERVE_NODE_API_ROUTER_H_

#include <memory>
#include <string>

#include "mirror/follower.h"
#include "serve/site_router.h"

namespace refuge::serve {

class NodeApiRouter final : public RequestHandler {
 public:
  NodeApiRouter(mirror::Follower* follower, RequestHandler& next)
      : follower_(follower), next_(next) {}

  void Handle(const RequestHead& request, Response* out) override;

 private:
  void Reply(Response* out, int status, std::string body);
  void ReplyShared(Response* out, std::shared_ptr<const std::string> body);

  mirror::Follower* follower_;  // null: the endpoints answer 503
  RequestHandler& next_;
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_NODE_API_ROUTER_H_
