#include "shield/token_bucket.h"

namespace refuge::shield {

bool TakeToken(const BucketLimit& limit, int64_t now_ms, BucketState* state) {
  const uint64_t capacity = limit.capacity();
  if (now_ms > state->last_ms) {
    // Clamp the elapsed time to what fills an empty bucket: no overflow after a long quiet.
    const uint64_t fill_ms = capacity / limit.per_minute + 1;
    uint64_t elapsed = static_cast<uint64_t>(now_ms - state->last_ms);
    if (elapsed > fill_ms) elapsed = fill_ms;
    uint64_t tokens = state->tokens + elapsed * limit.per_minute;
    state->tokens = static_cast<uint32_t>(tokens < capacity ? tokens : capacity);
    state->last_ms = now_ms;
  }
  if (state->tokens < kTokenCost) return false;
  state->tokens -= kTokenCost;
  return true;
}

uint32_t RetryAfterSeconds(const BucketLimit& limit, const BucketState& state) {
  if (state.tokens >= kTokenCost) return 1;
  const uint64_t missing = kTokenCost - state.tokens;
  const uint64_t ms = (missing + limit.per_minute - 1) / limit.per_minute;
  const uint64_t seconds = (ms + 999) / 1000;
  return static_cast<uint32_t>(seconds < 1 ? 1 : seconds);
}

}  // namespace refuge::shield
