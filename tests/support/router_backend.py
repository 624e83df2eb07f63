"""A stdlib-only app server for router tests, run in a thread on 127.0.0.1 and registered as an app's endpoint:
GET / answers its name, POST / the number of body bytes it read, GET /slow?seconds=N answers after N seconds,
GET /ws is a WebSocket (RFC 6455) echo server. It keeps the headers of the last request it was sent."""
import base64
import hashlib
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()


def read_exactly(stream, size):
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed in the middle of a frame")
        data += chunk
    return data


def read_frame(stream):
    """(opcode, payload) of one unfragmented frame, unmasking it when masked."""
    first, second = read_exactly(stream, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exactly(stream, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exactly(stream, 8))[0]
    mask = read_exactly(stream, 4) if second & 0x80 else None
    payload = read_exactly(stream, length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return first & 0x0F, payload


def frame(opcode, payload, mask=None):
    """One final frame; clients must mask (RFC 6455 §5.3), servers must not."""
    header = bytes([0x80 | opcode])
    flag = 0x80 if mask else 0
    if len(payload) < 126:
        header += bytes([flag | len(payload)])
    elif len(payload) < 1 << 16:
        header += bytes([flag | 126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([flag | 127]) + struct.pack("!Q", len(payload))
    if mask:
        return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + payload


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.last_request = (self.request_version, dict(self.headers))
        if self.path == "/ws":
            self.websocket()
        elif self.path.startswith("/slow"):
            time.sleep(float(self.path.partition("=")[2] or 2))
            self.answer(b"slow done")
        else:
            self.answer(self.server.name.encode())

    def do_POST(self):
        self.server.last_request = (self.request_version, dict(self.headers))
        size = int(self.headers.get("Content-Length", 0))
        received = len(read_exactly(self.rfile, size)) if size else 0
        self.answer(f"{self.server.name} received {received} bytes".encode())

    def answer(self, body, status=200):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def websocket(self):
        upgrade = self.headers.get("Upgrade", "").lower() == "websocket"
        connection = "upgrade" in self.headers.get("Connection", "").lower()
        if not (upgrade and connection and self.request_version == "HTTP/1.1"
                and self.headers.get("Sec-WebSocket-Key")):
            self.answer(b"not a WebSocket handshake", status=400)
            return
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_key(self.headers["Sec-WebSocket-Key"]))
        self.end_headers()
        self.wfile.flush()
        while True:
            try:
                opcode, payload = read_frame(self.rfile)
            except (ConnectionError, OSError, ValueError):
                break
            if opcode == 0x8:
                self.wfile.write(frame(0x8, payload[:2]))
                break
            if opcode == 0x9:
                self.wfile.write(frame(0xA, payload))
            else:
                self.wfile.write(frame(opcode, payload))
            self.wfile.flush()
        self.close_connection = True

    def log_message(self, fmt, *args):
        pass


class Backend(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name):
        super().__init__(("127.0.0.1", 0), Handler)
        self.name, self.last_request = name, None
        self.endpoint = f"127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
