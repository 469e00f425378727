#include "shield/challenge_page.h"

#include "crypto/sha256.h"

namespace refuge::shield {

namespace {

// The script: SHA-256 written out (FIPS 180-4; the round constants are computed from the
// primes as the standard defines them, once, before the search: computing them in every
// hash made the search five times slower), then the search, in slices of 20,000 hashes so
// the page stays responsive, then the redirect. `S`, `B` and `R` are set by the page.
constexpr std::string_view kScript = R"JS(
var P=[],K=[],I=[],n=2,i,j;
for(;P.length<64;n++){for(j=0;j<P.length&&P[j]*P[j]<=n;j++)if(n%P[j]==0)break;
if(j==P.length||P[j]*P[j]>n)P.push(n)}
for(i=0;i<64;i++){K[i]=Math.pow(P[i],1/3)%1*4294967296|0;if(i<8)I[i]=Math.pow(P[i],1/2)%1*4294967296|0}
function r(x,k){return x>>>k|x<<(32-k)}
function sha(m){var H=I.slice(0),l=m.length,w=[],a=[],t,i,j;
for(i=0;i<l;i++)w[i>>2]|=m.charCodeAt(i)<<(24-8*(i&3));
w[l>>2]|=128<<(24-8*(l&3));var N=((l+8)>>6)+1<<4;for(i=(l>>2)+1;i<N;i++)w[i]|=0;w[N-1]=l*8;
for(i=0;i<N;i+=16){var h=H.slice(0);for(j=0;j<64;j++){if(j<16)a[j]=w[i+j]|0;else{
var x=a[j-15],y=a[j-2];a[j]=(r(x,7)^r(x,18)^x>>>3)+a[j-16]+(r(y,17)^r(y,19)^y>>>10)+a[j-7]|0}
t=h[7]+(r(h[4],6)^r(h[4],11)^r(h[4],25))+(h[4]&h[5]^~h[4]&h[6])+K[j]+a[j]|0;
var u=(r(h[0],2)^r(h[0],13)^r(h[0],22))+(h[0]&h[1]^h[0]&h[2]^h[1]&h[2])|0;
h=[t+u|0,h[0],h[1],h[2],h[3]+t|0,h[4],h[5],h[6]]}for(j=0;j<8;j++)H[j]=H[j]+h[j]|0}return H}
function ok(d,b){for(var k=0;b>=32;k++,b-=32)if(d[k])return false;return b==0||d[k]>>>(32-b)==0}
var c=0,e=document.getElementById("m");
function go(){for(var z=c+20000;c<z;c++)if(ok(sha(S+":"+c),B)){
location.replace("/.refuge/shield/solve?s="+S+"&n="+c+"&r="+R);return}
e.textContent="Checking your browser\u2026 "+c+" tries";setTimeout(go,0)}
setTimeout(go,0);
)JS";

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

}  // namespace

ChallengePage::ChallengePage(int64_t nojs_delay_seconds) {
  head_ =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><meta name=\"robots\" content=\"noindex\">"
      "<title>One moment</title><noscript><meta http-equiv=\"refresh\" content=\"" +
      std::to_string(nojs_delay_seconds) + ";url=/.refuge/shield/wait?t=";
  middle_ =
      "\"></noscript><style>body{font:16px/1.5 sans-serif;max-width:36em;margin:3em auto;"
      "padding:0 1em;color:#222}</style></head><body><h1>One moment</h1>"
      "<p>This node is under heavy load. Your browser is doing a small computation to show "
      "that it is not part of a flood; the page loads by itself when it is done.</p>"
      "<p id=\"m\">Checking your browser\u2026</p><noscript><p>Without JavaScript the page loads "
      "by itself in " +
      std::to_string(nojs_delay_seconds) + " seconds.</p></noscript><script>var S=\"";
  tail_ = std::string(kScript) + "</script></body></html>\n";
}

std::string ChallengePage::Render(std::string_view seed, int bits, std::string_view ticket,
                                  std::string_view target) const {
  const std::string ret = EncodeReturnPath(target);
  std::string page;
  page.reserve(head_.size() + middle_.size() + tail_.size() + 2 * ret.size() + 128);
  page += head_;
  page += ticket;
  page += "&amp;r=";
  page += ret;
  page += middle_;
  page += seed;
  page += "\",B=";
  page += std::to_string(bits);
  page += ",R=\"";
  page += ret;
  page += "\";";
  page += tail_;
  return page;
}

std::string EncodeReturnPath(std::string_view target) {
  if (target.empty() || target.front() != '/' || target.size() > kMaxReturnPathBytes) return "%2F";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(target.size() * 3);
  for (char ch : target) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (Unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string DecodeReturnPath(std::string_view encoded) {
  std::string out;
  if (encoded.size() > 3 * kMaxReturnPathBytes) return "/";
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size()) return "/";
      int hi = HexDigitValue(encoded[i + 1]);
      int lo = HexDigitValue(encoded[i + 2]);
      if (hi < 0 || lo < 0) return "/";
      c = static_cast<char>(hi << 4 | lo);
      i += 2;
    }
    out += c;
  }
  if (out.empty() || out[0] != '/' || (out.size() > 1 && (out[1] == '/' || out[1] == '\\'))) return "/";
  for (char c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return "/";
  }
  return out;
}

}  // namespace refuge::shield
