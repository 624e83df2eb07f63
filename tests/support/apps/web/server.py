"""A tiny app for tests: answers GET / with $MESSAGE (or the image's default) and GET /env with its env."""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/env":
            body = json.dumps(dict(os.environ)).encode()
        elif self.path.startswith("/slow"):
            time.sleep(float(self.path.partition("=")[2] or 2))
            body = b"slow done"
        elif self.path == "/missing":
            self.send_error(404)
            return
        else:
            body = os.environ.get("MESSAGE", open("/app/default.txt").read().strip()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("request", self.path, flush=True)


class Server(ThreadingHTTPServer):
    daemon_threads = False  # on SIGTERM, requests in flight finish before the process exits


server = Server(("0.0.0.0", int(os.environ["PORT"])), Handler)
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
print("listening on", os.environ["PORT"], flush=True)
server.serve_forever()
server.server_close()
sys.exit(0)
