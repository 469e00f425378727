#include "serve/response.h"

#include <charconv>
#include <cstring>
#include <map>
#include <string>

#include "serve/http_parser.h"

namespace refuge::serve {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

namespace {

// Built once; never freed (static storage for the process's lifetime).
const std::map<int, std::string>& Pages() {
  static const auto* pages = [] {
    auto* m = new std::map<int, std::string>();
    // No page for 304 and 416: their responses carry no body.
    for (int s : {301, 303, 308, 400, 403, 404, 405, 408, 413, 417, 429, 451, 500, 501, 503, 505}) {
      std::string title = std::to_string(s) + " " + ReasonPhrase(s);
      (*m)[s] = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                "</title></head>\n<body><h1>" + title + "</h1><hr><p>refuge</p></body></html>\n";
    }
    return m;
  }();
  return *pages;
}

class Writer {
 public:
  explicit Writer(char* out) : out_(out) {}
  Writer& Add(std::string_view s) {
    std::memcpy(out_ + n_, s.data(), s.size());
    n_ += s.size();
    return *this;
  }
  Writer& Number(uint64_t v) {
    auto r = std::to_chars(out_ + n_, out_ + n_ + 20, v);
    n_ = static_cast<size_t>(r.ptr - out_);
    return *this;
  }
  size_t size() const { return n_; }

 private:
  char* out_;
  size_t n_ = 0;
};

}  // namespace

std::string_view ErrorPage(int status) {
  const auto& pages = Pages();
  auto it = pages.find(status);
  return it == pages.end() ? std::string_view() : std::string_view(it->second);
}

void SetErrorResponse(Response* r, int status) {
  bool head_only = r->head_only;
  bool close = r->close;
  r->Reset();
  r->head_only = head_only;
  r->close = close;
  r->status = status;
  r->cache_control = kNoStoreCacheControl;
  std::string_view page = ErrorPage(status);
  if (!page.empty()) {
    r->content_type = "text/html; charset=utf-8";
    r->body = Response::Body::kMemory;
    r->memory = page;
    r->total_length = page.size();
  }
}

std::string BlockedByLink(std::string_view uri) {
  std::string link = "<";
  link += uri;
  link += ">; rel=\"blocked-by\"";
  return link;
}

namespace {

void AppendEscapedHtml(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
}

}  // namespace

std::string UnavailableForLegalReasonsPage(std::string_view item, std::string_view reason,
                                           std::string_view blocked_by, int64_t since) {
  char date[kHttpDateLength];
  FormatHttpDate(since, date);
  std::string page =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>451 Unavailable For Legal "
      "Reasons</title></head>\n<body><h1>451 Unavailable For Legal Reasons</h1>\n<p>This node "
      "does not serve <code>";
  AppendEscapedHtml(page, item);
  page += "</code> for legal reasons:</p>\n<blockquote><p>";
  AppendEscapedHtml(page, reason);
  page += "</p></blockquote>\n<p>Blocked by ";
  const bool web = blocked_by.substr(0, 7) == "http://" || blocked_by.substr(0, 8) == "https://";
  if (web) {
    page += "<a href=\"";
    AppendEscapedHtml(page, blocked_by);
    page += "\">";
  }
  AppendEscapedHtml(page, blocked_by);
  if (web) page += "</a>";
  page += " since ";
  page.append(date, kHttpDateLength);
  page += ". This block is this node's own.</p><hr><p>refuge</p></body></html>\n";
  return page;
}

void SetUnavailableForLegalReasons(Response* r, std::string_view link, std::string_view page,
                                   std::shared_ptr<const void> hold) {
  SetErrorResponse(r, 451);
  r->link = link;
  r->memory = page;
  r->memory_hold = std::move(hold);
  r->total_length = page.size();
}

size_t FormatResponseHead(const Response& r, std::string_view date, char* out) {
  Writer w(out);
  w.Add("HTTP/1.1 ").Number(static_cast<uint64_t>(r.status)).Add(" ").Add(ReasonPhrase(r.status));
  w.Add("\r\nServer: refuge\r\nDate: ").Add(date).Add("\r\n");
  if (!r.content_type.empty() && r.status != 304) w.Add("Content-Type: ").Add(r.content_type).Add("\r\n");
  if (r.status == 416) {
    w.Add("Content-Range: bytes */").Number(r.total_length).Add("\r\nContent-Length: 0\r\n");
  } else if (r.status == 304) {
    // RFC 9110 15.4.5: no body, no Content-Length needed; validators and caching are sent.
  } else if (r.partial) {
    w.Add("Content-Range: bytes ").Number(r.first).Add("-").Number(r.last).Add("/").Number(r.total_length);
    w.Add("\r\nContent-Length: ").Number(r.last - r.first + 1).Add("\r\n");
  } else if (r.status != 204) {
    w.Add("Content-Length: ").Number(r.body == Response::Body::kNone ? 0 : r.total_length).Add("\r\n");
  }
  if (!r.etag_hex.empty()) w.Add("ETag: \"").Add(r.etag_hex).Add("\"\r\n");
  if (r.last_modified >= 0) {
    char lm[kHttpDateLength];
    FormatHttpDate(r.last_modified, lm);
    w.Add("Last-Modified: ").Add(std::string_view(lm, kHttpDateLength)).Add("\r\n");
  }
  if (!r.cache_control.empty()) w.Add("Cache-Control: ").Add(r.cache_control).Add("\r\n");
  if (!r.etag_hex.empty() && (r.status == 200 || r.status == 206)) w.Add("Accept-Ranges: bytes\r\n");
  if (!r.location.empty()) w.Add("Location: ").Add(r.location).Add("\r\n");
  if (!r.allow.empty()) w.Add("Allow: ").Add(r.allow).Add("\r\n");
  if (!r.link.empty()) w.Add("Link: ").Add(r.link).Add("\r\n");
  if (r.retry_after > 0) w.Add("Retry-After: ").Number(r.retry_after).Add("\r\n");
  if (!r.set_cookie.empty()) w.Add("Set-Cookie: ").Add(r.set_cookie).Add("\r\n");
  if (!r.challenge.empty()) w.Add("Refuge-Challenge: ").Add(r.challenge).Add("\r\n");
  if (r.stale_since >= 0) {
    char since[kHttpDateLength];
    FormatHttpDate(r.stale_since, since);
    w.Add("Refuge-Stale: ").Add(std::string_view(since, kHttpDateLength)).Add("\r\n");
  }
  if (r.status == 200 || r.status == 206 || r.status == 304) {
    w.Add("X-Content-Type-Options: nosniff\r\n");
  }
  if (r.close) w.Add("Connection: close\r\n");
  w.Add("\r\n");
  return w.size();
}

}  // namespace refuge::serve
