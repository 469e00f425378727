// ShieldGate: the shield's answers in HTTP, in front of every request handler but the admin
// listener's.
//
//   limited     429 Too Many Requests, Retry-After: <seconds>; the connection stays open
//   banned      429 with the ban's Retry-After, and the connection closes
//   challenged  503 with the challenge page (no-store) and "Refuge-Challenge: <seed> <bits>"
//               for scripts and tools
//   solve/wait  GET /.refuge/shield/solve?s=&n=&r= or /.refuge/shield/wait?t=&r=: 303 to the
//               page asked for, with "Set-Cookie: refuge_clearance=...; Path=/; Max-Age=...;
//               HttpOnly; SameSite=Lax"; 403 if the proof does not hold
//
// Thread-safety: const after construction; Screen may run on every loop at once.
#ifndef REFUGE_SERVE_SHIELD_GATE_H_
#define REFUGE_SERVE_SHIELD_GATE_H_

#include <cstdint>

#include "serve/http_parser.h"
#include "serve/response.h"
#include "shield/challenge_page.h"
#include "shield/shield.h"

namespace refuge::serve {

class ShieldGate {
 public:
  explicit ShieldGate(shield::Shield& shield);

  // Screens `request` from `client`. False: the request goes on to its handler (*cleared
  // tells whether it carried a valid clearance). True: `out` holds the shield's answer
  // (and out->close is set when the connection must close).
  bool Screen(const shield::ClientAddress& client, const RequestHead& request, int64_t now_ms,
              int64_t wall_s, Response* out, bool* cleared) const;

  shield::Shield& shield() const { return shield_; }

 private:
  void Challenge(const shield::ClientAddress& client, const RequestHead& request, int bits,
                 int64_t wall_s, Response* out) const;
  void Clear(const shield::Shield::Clearing& clearing, std::string_view query,
             Response* out) const;

  shield::Shield& shield_;
  const shield::ChallengePage page_;
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_SHIELD_GATE_H_
