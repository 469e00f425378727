// TokenBucket: a request-rate limit (requests per minute, burst) in integer fixed point.
//
// Tokens are counted in units of 1/60,000 of a request, so that a rate of R requests per
// minute refills exactly R units per millisecond: no floating point, no rounding drift, rates
// as low as one request a minute, and the state fits in 12 bytes (the client table keeps one
// per client). Time is passed in by
// the caller (milliseconds of a monotonic clock), so tests drive it by hand.
//
// Thread-safety: values; the caller serializes access.
#ifndef REFUGE_SHIELD_TOKEN_BUCKET_H_
#define REFUGE_SHIELD_TOKEN_BUCKET_H_

#include <cstdint>
#include <climits>

namespace refuge::shield {

// One request costs this many units.
inline constexpr uint32_t kTokenCost = 60'000;
// The largest burst (its units must fit 32 bits).
inline constexpr uint32_t kMaxBurst = UINT32_MAX / kTokenCost;

struct BucketLimit {
  uint32_t per_minute = 0;  // requests per minute, >= 1
  uint32_t burst = 0;       // requests that may come at once, 1 to kMaxBurst

  uint32_t capacity() const { return burst * kTokenCost; }
};

struct BucketState {
  int64_t last_ms = 0;  // when `tokens` was last brought up to date
  uint32_t tokens = 0;
};

// A new client's bucket: full.
inline BucketState FullBucket(const BucketLimit& limit, int64_t now_ms) {
  return BucketState{now_ms, limit.capacity()};
}

// Refills for the time since last_ms, then takes one request's tokens if there are enough.
// True if the request may go. A clock that went backwards refills nothing.
bool TakeToken(const BucketLimit& limit, int64_t now_ms, BucketState* state);

// After a refusal: whole seconds until one request's tokens are there (at least 1), for
// Retry-After.
uint32_t RetryAfterSeconds(const BucketLimit& limit, const BucketState& state);

// Is the bucket full (the client has been quiet long enough to forgive its strikes)?
inline bool IsFull(const BucketLimit& limit, const BucketState& state) {
  return state.tokens >= limit.capacity();
}

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_TOKEN_BUCKET_H_
