"""A Python buildpack app (no Dockerfile): the Procfile's web process serves on $PORT."""
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{os.environ.get('GREETING', 'Hello')} from a Python app on Pier\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "5000"))), Hello)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server.serve_forever()
