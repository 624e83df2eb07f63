"""Pier's static site server: serves the app's public/ (or, without one, its root) on 0.0.0.0:$PORT.

Standard library only, so a static site's slug needs nothing installed. Copied into the slug at
/app/.pier-static/serve.py by the static buildpack's bin/compile.
"""
import functools
import os
import signal
import sys
import urllib.parse
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

APP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHARSET_TYPES = ("application/javascript", "application/json", "image/svg+xml")


def document_root(app=APP):
    public = os.path.join(app, "public")
    return public if os.path.isfile(os.path.join(public, "index.html")) else app


def hidden(url_path):
    """Dot paths (.profile.d, .pier-static, .env, .git) are the slug's internals, not the site;
    .well-known is the one dot directory sites publish on purpose."""
    parts = [p for p in urllib.parse.unquote(url_path).split("/") if p]
    return any(p.startswith(".") and p != ".well-known" for p in parts)


class Handler(SimpleHTTPRequestHandler):
    server_version = "pier-static"
    sys_version = ""
    # Python's defaults plus types /etc/mime.types would add; the stack does not ship that file.
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
                      ".svg": "image/svg+xml", ".wasm": "application/wasm", ".webp": "image/webp",
                      ".woff": "font/woff", ".woff2": "font/woff2", ".txt": "text/plain",
                      ".webmanifest": "application/manifest+json", ".ico": "image/vnd.microsoft.icon"}

    def send_head(self):
        if hidden(urllib.parse.urlsplit(self.path).path):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def list_directory(self, path):
        # A directory without index.html is not a page; listing it would publish every file in it.
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def guess_type(self, path):
        kind = super().guess_type(path)
        if kind.startswith("text/") or kind in CHARSET_TYPES:
            return f"{kind}; charset=utf-8"
        return kind


def main():
    port = int(os.environ.get("PORT", "5000"))
    root = document_root()
    server = ThreadingHTTPServer(("0.0.0.0", port), functools.partial(Handler, directory=root))
    # Without a handler a process that is PID 1 ignores SIGTERM and every stop waits for SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"serving {root} on 0.0.0.0:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
