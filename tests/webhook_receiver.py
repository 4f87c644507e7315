"""A local HTTP server standing in for a Slack incoming webhook: it keeps each JSON body it is
posted and answers 200 "ok", as Slack does (tests/test_alerts.py, tests/test_untrusted_outputs.py).
"""

import http.server
import json

RECEIVED: list[dict] = []  # what the local webhook server was sent


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers["Content-Length"])
        RECEIVED.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass
