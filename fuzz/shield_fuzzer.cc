// libFuzzer target: everything the shield reads from a client: the Cookie field, the query of
// /.refuge/shield/solve and /wait, seeds, nonces, tickets, cookies and return paths.
//
// Input: one parameter byte (which client prefix and which time the checks use), then the
// client's text, split at the first '\n' into a Cookie field and a query string.
//
// Properties checked beyond "no crash, no leak, no undefined behaviour" (a violation traps):
//   - found values are views inside their input;
//   - nothing the node did not issue verifies (a random cookie, seed or ticket is never kOk:
//     forging a 128-bit MAC by chance is out of reach);
//   - a decoded return path starts with exactly one '/' and holds only visible ASCII, and
//     encoding then decoding any target starting with '/' gives it back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shield/challenge_page.h"
#include "shield/clearance.h"
#include "shield/shield.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() &&
                          part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refuge::shield;
  static const Clearance clearance = *Clearance::FromHex(std::string(64, 'a'));
  if (size < 1) return 0;
  const uint8_t param = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nl = text.find('\n');
  const std::string_view cookie_field = text.substr(0, nl);
  const std::string_view query = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

  const auto client = ClientAddress::From(
      boost::asio::ip::make_address_v4(0xC0000200u | (param & 0x0f)));  // 192.0.2.x
  const int64_t now = 1'700'000'000 + (param >> 4) * 1000;

  std::string_view cookie = FindCookie(cookie_field, kCookieName);
  Check(Inside(cookie, cookie_field));
  Check(clearance.VerifyCookie(cookie, client, now) != ClearanceCheck::kOk);

  std::string_view seed = FindQueryParam(query, "s");
  std::string_view nonce = FindQueryParam(query, "n");
  std::string_view ticket = FindQueryParam(query, "t");
  std::string_view ret = FindQueryParam(query, "r");
  for (std::string_view v : {seed, nonce, ticket, ret}) Check(Inside(v, query));
  Check(clearance.VerifySolution(seed, nonce, client, now) != ClearanceCheck::kOk);
  Check(clearance.VerifyTicket(ticket, client, now, 5) != ClearanceCheck::kOk);
  (void)Clearance::SeedBits(seed);

  const std::string decoded = DecodeReturnPath(ret);
  Check(!decoded.empty() && decoded[0] == '/');
  Check(decoded.size() == 1 || (decoded[1] != '/' && decoded[1] != '\\'));
  for (char c : decoded) Check(c > 0x20 && c < 0x7f);

  if (!text.empty() && text[0] == '/' && text.size() <= kMaxReturnPathBytes) {
    const std::string round = DecodeReturnPath(EncodeReturnPath(text));
    bool visible = text.size() < 2 || (text[1] != '/' && text[1] != '\\');
    for (char c : text) visible = visible && c > 0x20 && c < 0x7f;
    if (visible) Check(round == text);
  }
  return 0;
}
