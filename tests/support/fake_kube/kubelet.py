"""The fake cluster's kubelet: what a pod's container does, decided by its image (`Image`).

A container of an image that serves really answers HTTP on 127.0.0.1 (a port of its own; the Service's
kube-proxy in `FakeCluster.resolve` leads there), with the environment the pod spec gives it (`env` and the
Secrets of `envFrom`), so readiness probes run for real and the contract's HTTP checks work. Lines a container
prints are kept with their times for `pods/log`.
"""
import base64
import datetime
import json
import shlex
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from workers.scheduler.memory import run_script


@dataclass
class Image:
    """What a container of this image does."""
    body: str = ""  # GET / answers this, or $MESSAGE
    crash: tuple | None = None  # (exit code, output, reason): the container exits right after starting
    output: tuple = ("listening on {PORT}",)  # printed at start (str.format(**env))
    pull_secret_user: str = ""  # a private image: only pulled with a pull Secret of this user


def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        container = self.server.container
        if self.path == "/env":
            body = json.dumps(container.env).encode()
        elif self.path == "/missing":
            self.send_error(404)
            return
        else:
            body = container.env.get("MESSAGE", container.image.body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        container.print(f"request {self.path}")

    def log_message(self, fmt, *args):
        pass


class Container:
    """One running (or finished) container of a pod."""

    def __init__(self, image, env, logs):
        self.image, self.env, self.logs = image, env, logs
        self.server = None

    def print(self, text):
        self.logs.append(text)

    def serve(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.container = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}" if self.server else ""

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Logs:
    """A pod's printed lines [(stamp, text)], across its containers' restarts; followers wait on `more`."""

    def __init__(self):
        self.lines = []
        self.more = threading.Condition()
        self.finished = False

    def append(self, text):
        with self.more:
            for line in text.splitlines() or [""]:
                self.lines.append((stamp(), line))
            self.more.notify_all()

    def finish(self):
        with self.more:
            self.finished = True
            self.more.notify_all()


def environment(pod, secrets):
    """The container's environment: envFrom Secrets first, then env, as the kubelet builds it. Raises
    KeyError naming a Secret that does not exist (CreateContainerConfigError)."""
    container = pod["spec"]["containers"][0]
    env = {}
    for source in container.get("envFrom") or []:
        name = source["secretRef"]["name"]
        data = secrets[name]["data"]
        env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
    for item in container.get("env") or []:
        env[item["name"]] = item.get("value", "")
    return env


def probe_passes(probe, container):
    """Runs a readiness probe against a container for real (httpGet, tcpSocket, exec)."""
    if "httpGet" in probe:
        if not container.server:
            return False
        try:
            url = f"http://{container.address}{probe['httpGet'].get('path', '/')}"
            with urllib.request.urlopen(url, timeout=probe.get("timeoutSeconds", 1)) as answer:
                return 200 <= answer.status < 400
        except (OSError, ValueError, urllib.error.URLError):
            return False
    if "tcpSocket" in probe:
        return container.server is not None
    return run_script(" ".join(shlex.quote(w) for w in probe["exec"]["command"]), container.env)[0] == 0


def run_one_off(command, env, deadline_seconds, logs):
    """(exit code, timed out) of a one-off's `sh -c` command: the memory backend's small sh, plus `sleep N`,
    which runs past a pod's activeDeadlineSeconds when N is larger."""
    words = shlex.split(command)
    if words[:1] == ["sleep"] and len(words) == 2:
        seconds = float(words[1])
        if deadline_seconds is not None and seconds > deadline_seconds:
            time.sleep(deadline_seconds)
            return None, True
        time.sleep(seconds)
        return 0, False
    code, output = run_script(command, env)
    if output:
        with logs.more:
            for line in output.splitlines():
                logs.lines.append((stamp(), line))
            logs.more.notify_all()
    return code, False
