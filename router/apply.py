"""Applying a rendered configuration: validate with `nginx -t`, swap atomically, reload only on change."""
import http.client
import logging
import os
import signal
import stat
import subprocess
import time

from router.render import generation

log = logging.getLogger("pier.router")
LIVE_TIMEOUT = 5.0


def workers_of(master):
    """The pids of an nginx master's worker processes, read from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == master:
            pids.append(int(entry))
    return pids


def accepting(pid):
    """Whether an nginx worker still takes new connections: once told to stop, it retitles itself
    "worker process is shutting down" and closes its listening sockets."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"shutting down" not in f.read()
    except OSError:
        return False


class RouterConfigError(Exception):
    """nginx refused a rendered configuration; the last good one keeps serving."""


def unreachable_by_workers(runtime):
    """The first folder on the way to `runtime` that nginx's workers cannot pass through, or None. Started as
    root, nginx runs its workers as nobody; they write request bodies over 16k and large responses under
    <runtime>, and answer 500 to those requests when a folder above it is private (mode 0700)."""
    if os.geteuid() != 0:
        return None
    folder = os.path.abspath(runtime)
    while True:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
        if folder == os.path.dirname(folder):
            return None
        folder = os.path.dirname(folder)


class Nginx:
    def __init__(self, runtime, listen):
        self.runtime = runtime
        host, _, port = listen.rpartition(":")
        self.probe_address = (host or "127.0.0.1", int(port))
        self.conf = os.path.join(runtime, "nginx.conf")
        for folder in ("", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(runtime, folder), exist_ok=True)
        private = unreachable_by_workers(runtime)
        if private:
            raise RouterConfigError(f"nginx's workers (user nobody) cannot reach {runtime} through {private}: "
                                    "make that folder searchable (chmod o+x) or set PIER_ROUTER_RUNTIME elsewhere")

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
        refusal = self.refusal(text, candidate)
        if refusal is not None:
            raise RouterConfigError(f"nginx refused the new configuration: {refusal}")
        os.replace(candidate, self.conf)
        pid = self.master_pid()
        old_workers = workers_of(pid) if pid else []
        if pid:
            os.kill(pid, signal.SIGHUP)
        else:
            subprocess.run(["nginx", "-c", self.conf], check=True, capture_output=True)
        self._wait_live(generation(text), old_workers)
        return True

    def refusal(self, text, candidate=None):
        """What `nginx -t` says against `text`, written to `candidate` (beside the configuration), or None
        when nginx takes it."""
        candidate = candidate or self.conf + ".check"
        with open(candidate, "w") as f:
            f.write(text)
        check = subprocess.run(["nginx", "-t", "-q", "-c", candidate], capture_output=True, text=True)
        return (check.stderr.strip() or f"nginx -t exited with {check.returncode}") if check.returncode else None

    def _wait_live(self, wanted, old_workers, seconds=LIVE_TIMEOUT):
        """A reload is asynchronous: wait until no old worker accepts connections any more and new
        connections are served by the new configuration."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not any(accepting(pid) for pid in old_workers) and self.serving() == wanted:
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

    def reopen_logs(self):
        """Asks nginx to reopen its log files (after one was renamed to rotate it)."""
        pid = self.master_pid()
        if pid:
            os.kill(pid, signal.SIGUSR1)

    def stop(self):
        pid = self.master_pid()
        if pid:
            os.kill(pid, signal.SIGQUIT)
