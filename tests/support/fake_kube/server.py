"""The fake API server's HTTP side: Kubernetes' URL layout for the resources Pier uses, JSON in and out,
errors as Status objects, watches and log follows as chunked streams, a request log for the RBAC test, and
injectable faults."""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.fake_kube.store import RESOURCES, ApiError

WATCH_LIMIT_SECONDS = 60


def parse_path(path):
    """'/apis/apps/v1/namespaces/x/deployments/y' -> (group, resource, namespace, name, subresource)."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    namespace = None
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource, name, sub = (rest + [None, None, None])[:3]
    if resource not in RESOURCES or RESOURCES[resource][0] != group:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return group, resource, namespace, name, sub


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # -- plumbing -------------------------------------------------------------------------------------------
    def _send(self, code, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _start_stream(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _body(self):
        return json.loads(self.data) if self.data else {}

    def _handle(self, method):
        cluster = self.server.cluster
        # read whole before anything can fail: a body left unread would be taken for the next request
        self.data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urllib.parse.urlsplit(self.path)
        # Go's strconv.ParseBool, as the API server reads booleans: the client sends "True"
        query = {k: v[-1].lower() if v[-1] in ("True", "False") else v[-1]
                 for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            group, resource, namespace, name, sub = parse_path(url.path)
            verb = _verb(method, name, query)
            cluster.record(verb, group, resource + (f"/{sub}" if sub else ""))
            fault = cluster.fault_for(verb, resource)
            if fault is not None:
                raise fault
            self._dispatch(method, verb, resource, namespace, name, sub, query)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _dispatch(self, method, verb, resource, namespace, name, sub, query):
        store = self.server.cluster.store
        if sub == "log":
            return self._log(namespace, name, query)
        if verb == "watch":
            return self._watch(resource, namespace, query)
        if verb == "list":
            items, version = store.list(resource, namespace, query.get("labelSelector", ""))
            group, api_version, kind, _ = RESOURCES[resource]
            return self._send(200, {"apiVersion": f"{group}/{api_version}" if group else api_version,
                                    "kind": f"{kind}List", "metadata": {"resourceVersion": version},
                                    "items": items})
        if verb == "get":
            return self._send(200, store.get(resource, namespace, name))
        if verb == "create":
            return self._send(201, store.create(resource, namespace, self._body()))
        if verb == "update":
            return self._send(200, store.replace(resource, namespace, name, self._body()))
        if verb == "patch":
            content_type = self.headers.get("Content-Type", "")
            if "merge-patch" not in content_type:
                raise ApiError(415, "UnsupportedMediaType", f"the fake API server only merges patches ({content_type})")
            return self._send(200, store.patch(resource, namespace, name, self._body()))
        if verb == "delete":
            return self._send(200, self.server.cluster.delete(resource, namespace, name, query))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")

    def _watch(self, resource, namespace, query):
        store, cluster = self.server.cluster.store, self.server.cluster
        version, selector = query.get("resourceVersion") or store.version, query.get("labelSelector", "")
        ends = time.monotonic() + min(float(query.get("timeoutSeconds") or WATCH_LIMIT_SECONDS), WATCH_LIMIT_SECONDS)
        self._start_stream("application/json")
        expired = store.expired
        try:
            while time.monotonic() < ends and not cluster.stopping.is_set() and store.expired == expired:
                with store.changed:
                    try:
                        events = store.events_after(version, resource, namespace, selector)
                    except ApiError as gone:
                        self._chunk(json.dumps({"type": "ERROR", "object": gone.status()}).encode() + b"\n")
                        break
                    if not events:
                        store.changed.wait(0.2)
                        continue
                for number, kind, obj in events:
                    self._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
                    version = number
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _log(self, namespace, name, query):
        """A pod's printed lines. Its pods run their container once (a crash is not followed by another run),
        so the log of the current run and of the previous one are the same lines; the kubelet's refusals are
        kept: no previous run to read, or a container that never ran (waiting with no run that ended)."""
        cluster = self.server.cluster
        pod = cluster.store.get("pods", namespace, name)
        status = ((pod.get("status") or {}).get("containerStatuses") or [{}])[0]
        state, ended = status.get("state") or {}, (status.get("lastState") or {}).get("terminated")
        if query.get("previous") == "true" and not (ended or {}).get("containerID"):
            raise ApiError(400, "BadRequest", f'previous terminated container "main" in pod "{name}" not found')
        if query.get("previous") != "true" and "waiting" in state and not ended:
            raise ApiError(400, "BadRequest", f'container "main" in pod "{name}" is waiting to start: '
                                              f'{state["waiting"].get("reason", "ContainerCreating")}')
        logs = cluster.controllers.logs.get((namespace, name))
        lines = list(logs.lines) if logs else []
        timestamps = query.get("timestamps") == "true"
        if "sinceSeconds" in query:
            lines = [l for l in lines if l[0] >= _ago(int(query["sinceSeconds"]))]
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]):] if int(query["tailLines"]) else []

        def text(line):
            # RFC 3339 with nanoseconds, trailing zeros dropped, as the kubelet writes them
            nano = (line[0][:-1] + "000").rstrip("0").rstrip(".") + "Z"
            return ((f"{nano} " if timestamps else "") + line[1] + "\n").encode()

        if query.get("follow") != "true" or logs is None:
            return self._send(200, b"".join(text(l) for l in lines), "text/plain")
        self._start_stream("text/plain")
        sent = len(logs.lines)
        try:
            for line in lines:
                self._chunk(text(line))
            while not cluster.stopping.is_set():
                with logs.more:
                    if len(logs.lines) <= sent and not logs.finished:
                        logs.more.wait(0.2)
                    new, sent = logs.lines[sent:], len(logs.lines)
                    finished = logs.finished
                for line in new:
                    self._chunk(text(line))
                if finished and not new:
                    break
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


def _ago(seconds):
    import datetime
    then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return then.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _verb(method, name, query):
    """The RBAC verb of a request, as the API server's authorizer names it."""
    if method == "GET":
        if name:
            return "get"
        return "watch" if query.get("watch") in ("true", "1") else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cluster):
        super().__init__(("127.0.0.1", 0), Handler)
        self.cluster = cluster
        self.thread = threading.Thread(target=self.serve_forever, daemon=True, name="fake-kube-api")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"
