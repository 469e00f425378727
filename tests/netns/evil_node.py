#!/usr/bin/python3
"""A malicious refuge node for tests/netns/mirror_malicious.sh (stdlib only).

It looks like a node: it answers the node URLs by proxying an honest upstream node, and
lies the way the mode file (read at every request) says:

  proxy       an honest copy of the upstream
  rollback    metadata files present in --captured (an older timestamp.json captured earlier,
              validly signed) are served instead of the upstream's: a rollback attack
  badobject   genuine metadata, but every object, target and /s/ file is replaced by bytes of
              the same length that do not hash to its name (the --marker, repeated)
  endless     genuine metadata, but objects, targets and /s/ files are a body that never ends
              (no Content-Length, the marker repeated until the client hangs up)
  endlessmeta every metadata file is a body that never ends

POST requests (notify, announce) get 202 and are dropped. Requests are logged on stderr.

  /usr/bin/python3 evil_node.py --bind ADDR --port P --upstream http://HONEST:8080 \
      --mode-file FILE --captured DIR --marker TEXT
"""
import argparse
import os
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDLESS_LIMIT = 1 << 30  # an endless body still stops somewhere (1 GiB), so the test is bounded


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--captured", required=True)
    p.add_argument("--marker", required=True)
    return p.parse_args()


ARGS = parse_args()
MARKER = ARGS.marker.encode()


def mode():
    try:
        with open(ARGS.mode_file) as f:
            return f.read().strip() or "proxy"
    except OSError:
        return "proxy"


def garbage(n):
    reps = n // len(MARKER) + 1
    return (MARKER * reps)[:n]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "refuge-evil/0"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s mode=%s %s\n" % (self.client_address[0], mode(), fmt % args))
        sys.stderr.flush()

    def upstream(self):
        req = urllib.request.Request(ARGS.upstream + self.path, method="GET")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()
        except Exception as e:  # upstream down: look like a node that has nothing
            return 502, {}, f"upstream: {e}".encode()

    def send(self, status, body, content_type="application/octet-stream", etag=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def endless(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = garbage(64 * 1024)
        sent = 0
        try:
            while sent < ENDLESS_LIMIT:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            pass
        self.log_message("endless body stopped after %d bytes", sent)

    def do_GET(self):
        m = mode()
        path = self.path.split("?", 1)[0]
        is_meta = "/metadata/" in path and path.startswith("/.refuge/v1/sites/")
        is_data = (path.startswith("/.refuge/v1/objects/") or path.startswith("/s/")
                   or ("/targets/" in path and path.startswith("/.refuge/v1/sites/")))
        if is_meta and m == "endlessmeta":
            return self.endless("application/json")
        if is_meta and m == "rollback":
            name = os.path.basename(path)
            captured = os.path.join(ARGS.captured, name)
            if name and os.path.isfile(captured):
                with open(captured, "rb") as f:
                    return self.send(200, f.read(), "application/json")
        if is_data and m == "endless":
            return self.endless("application/octet-stream")
        status, headers, body = self.upstream()
        ctype = headers.get("Content-Type", "application/octet-stream")
        if is_data and m == "badobject" and status == 200:
            return self.send(200, garbage(len(body)), ctype, headers.get("ETag"))
        return self.send(status, body, ctype, headers.get("ETag"))

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if 0 < n <= 1 << 20:
            self.rfile.read(n)
        self.send(202, b"{}", "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    srv = Server((ARGS.bind, ARGS.port), Handler)
    sys.stderr.write(f"evil node on {ARGS.bind}:{ARGS.port}, upstream {ARGS.upstream}\n")
    sys.stderr.flush()
    srv.serve_forever()
