"""Applying a rendered configuration: validate with `nginx -t`, swap atomically, reload only on change."""
import http.client
import logging
import os
import signal
import subprocess
import time

from router.render import generation

log = logging.getLogger("pier.router")
LIVE_TIMEOUT = 5.0


class RouterConfigError(Exception):
    """nginx refused a rendered configuration; the last good one keeps serving."""


class Nginx:
    def __init__(self, runtime, listen):
        self.runtime = runtime
        host, _, port = listen.rpartition(":")
        self.probe_address = (host or "127.0.0.1", int(port))
        self.conf = os.path.join(runtime, "nginx.conf")
        for folder in ("", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(runtime, folder), exist_ok=True)

    def current(self):
        try:
            with open(self.conf) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def apply(self, text, files_changed=False):
        """Returns True when nginx now serves `text`, False when it already did. `files_changed` says that
        files it reads (certificates) changed, which also needs a reload."""
        if text == self.current() and self.master_pid() and not files_changed:
            return False
        candidate = self.conf + ".new"
        with open(candidate, "w") as f:
            f.write(text)
        check = subprocess.run(["nginx", "-t", "-q", "-c", candidate], capture_output=True, text=True)
        if check.returncode != 0:
            raise RouterConfigError(f"nginx refused the new configuration: {check.stderr.strip()}")
        os.replace(candidate, self.conf)
        pid = self.master_pid()
        if pid:
            os.kill(pid, signal.SIGHUP)
        else:
            subprocess.run(["nginx", "-c", self.conf], check=True, capture_output=True)
        self._wait_live(generation(text))
        return True

    def _wait_live(self, wanted, seconds=LIVE_TIMEOUT):
        """A reload is asynchronous: wait until new connections are served by the new configuration."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.serving() == wanted:
                return
            time.sleep(0.01)
        log.warning("nginx did not serve generation %s within %ss", wanted, seconds)

    def serving(self):
        connection = http.client.HTTPConnection(*self.probe_address, timeout=1)
        try:
            connection.request("GET", "/__pier/generation", headers={"Host": "pier-router-probe"})
            response = connection.getresponse()
            return response.read().decode() if response.status == 200 else None
        except OSError:
            return None
        finally:
            connection.close()

    def master_pid(self):
        try:
            with open(os.path.join(self.runtime, "nginx.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None

    def stop(self):
        pid = self.master_pid()
        if pid:
            os.kill(pid, signal.SIGQUIT)
