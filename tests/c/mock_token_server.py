#!/usr/bin/env python3
"""A plain-HTTP mock of token/device/CIBA endpoints on 127.0.0.1 for the C fault tests.

Prints one line, the base URL (http://127.0.0.1:PORT), then serves until stdin closes.
Paths are /<mode>/<anything>; the mode decides the answer to any method:
  ok-device   a valid device authorization response (interval 1, expires_in 60)
  ok-ciba     a valid CIBA response
  ok          a valid token response
  malformed   200 application/json, truncated JSON
  big         200 application/json, 1 MiB (above the client's 512 KiB response cap)
  missing     200 application/json without the required members
  error       400 {"error":"invalid_grant"}
  pending     400 {"error":"authorization_pending"}
  500         500 text/plain
  hang        answers only after 30 s (the client's timeout is shorter)
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    "ok-device": (200, "application/json", json.dumps({"device_code": "mock-dc", "user_code": "MOCK-1",
                  "verification_uri": "https://127.0.0.1/device", "expires_in": 60, "interval": 1})),
    "ok-ciba": (200, "application/json", json.dumps({"auth_req_id": "mock-rid", "expires_in": 60, "interval": 1})),
    "ok": (200, "application/json", json.dumps({"access_token": "mock-at", "token_type": "Bearer",
           "expires_in": 60, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})),
    "malformed": (200, "application/json", '{"access_token": "x", "token_type":'),
    "big": (200, "application/json", '{"access_token":"' + "x" * (1024 * 1024) + '","token_type":"Bearer"}'),
    "missing": (200, "application/json", json.dumps({"token_type": "Bearer", "note": "no required members"})),
    "error": (400, "application/json", json.dumps({"error": "invalid_grant", "error_description": "mock says no"})),
    "pending": (400, "application/json", json.dumps({"error": "authorization_pending"})),
    "500": (500, "text/plain", "internal error"),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        mode = self.path.strip("/").split("/")[0]
        if mode == "hang":
            time.sleep(30)
        status, ctype, body = ANSWERS.get(mode, (404, "application/json", '{"error":"not_found"}'))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass

    do_GET = answer
    do_POST = answer


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        sys.stdin.read()  # until the runner closes our stdin (or dies)
    finally:
        srv.shutdown()


if __name__ == "__main__":
    main()
