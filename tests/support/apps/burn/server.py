"""A test app that costs CPU on request: GET /burn?ms=N spins for N milliseconds of CPU time; GET / answers ok."""
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/burn"):
            until = time.process_time() + float(self.path.partition("ms=")[2] or 10) / 1000
            while time.process_time() < until:
                pass
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


server = ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler)
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
print("listening on", os.environ["PORT"], flush=True)
server.serve_forever()
