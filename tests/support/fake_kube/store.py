"""The fake API server's storage: objects by (resource, namespace, name), resourceVersions, an event history for
watches (compactable, so old versions answer 410), label selectors, and schema validation of every write."""
import copy
import datetime
import itertools
import json
import threading
import uuid

from tests.support import kube_schemas as kubernetes_validate

# resource -> (group, version, kind, namespaced)
RESOURCES = {
    "namespaces": ("", "v1", "Namespace", False),
    "nodes": ("", "v1", "Node", False),
    "pods": ("", "v1", "Pod", True),
    "secrets": ("", "v1", "Secret", True),
    "services": ("", "v1", "Service", True),
    "deployments": ("apps", "v1", "Deployment", True),
    "horizontalpodautoscalers": ("autoscaling", "v2", "HorizontalPodAutoscaler", True),
}


class ApiError(Exception):
    """Answered as a Kubernetes Status object."""

    def __init__(self, code, reason, message, kind="", name=""):
        super().__init__(message)
        self.code, self.reason, self.message, self.kind, self.name = code, reason, message, kind, name

    def status(self):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason,
                "details": {"name": self.name, "kind": self.kind}, "code": self.code}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def selected(labels, selector):
    """Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a`, `!a`, joined by commas."""
    labels = labels or {}
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def merge(target, patch):
    """A merge patch (RFC 7386); strategic merge patches Pier sends only touch maps, where both agree."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            raise ApiError(422, "Invalid", f"the fake API server does not merge lists ({key})")
        else:
            result[key] = merge(result.get(key), value)
    return result


class Store:
    def __init__(self, versions=("1.37",)):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects = {}
        self.counter = itertools.count(1)
        self.version = 0
        self.events = []  # (resourceVersion, resource, type, object)
        self.oldest = 0  # watches from a version below this answer 410 Gone
        self.expired = 0  # bumped by compact(): open watches end, as when an API server restarts
        self.versions = versions
        self.writes = []  # every object a client wrote, after validation

    # -- validation -----------------------------------------------------------------------------------------
    def validate(self, resource, obj):
        group, version, kind, _ = RESOURCES[resource]
        expected = f"{group}/{version}" if group else version
        if obj.get("apiVersion") != expected or obj.get("kind") != kind:
            raise ApiError(400, "BadRequest", f"expected {expected} {kind}, got {obj.get('apiVersion')} "
                                              f"{obj.get('kind')}")
        body = {k: v for k, v in obj.items() if k != "status"}
        for schema_version in self.versions:
            try:
                kubernetes_validate.validate(body, schema_version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = ".".join(str(p) for p in exc.path)
                raise ApiError(422, "Invalid", f"{kind} {obj['metadata'].get('name')} is invalid for "
                                               f"Kubernetes {schema_version}: {where}: {exc.message}",
                               kind, obj["metadata"].get("name", "")) from None
            except kubernetes_validate.SchemaNotFoundError as exc:
                raise ApiError(404, "NotFound", exc.message) from None
        self.writes.append(copy.deepcopy(body))

    # -- storage --------------------------------------------------------------------------------------------
    def _emit(self, resource, kind, obj):
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.events.append((self.version, resource, kind, copy.deepcopy(obj)))
        del self.events[:-5000]
        self.changed.notify_all()

    def _key(self, resource, namespace, name):
        return (resource, namespace if RESOURCES[resource][3] else None, name)

    def get(self, resource, namespace, name):
        with self.lock:
            found = self.objects.get(self._key(resource, namespace, name))
            if found is None:
                raise ApiError(404, "NotFound", f'{resource} "{name}" not found', RESOURCES[resource][2], name)
            return copy.deepcopy(found)

    def list(self, resource, namespace=None, selector=""):
        with self.lock:
            items = [copy.deepcopy(o) for (r, ns, _), o in sorted(self.objects.items(), key=lambda i: str(i[0]))
                     if r == resource and namespace in (None, ns)
                     and selected(o["metadata"].get("labels"), selector)]
            return items, str(self.version)

    def create(self, resource, namespace, obj, validate=True):
        with self.lock:
            obj = copy.deepcopy(obj)
            metadata = obj.setdefault("metadata", {})
            if RESOURCES[resource][3]:
                metadata["namespace"] = namespace
                space = self.objects.get(("namespaces", None, namespace))
                if space is None and resource != "nodes":
                    raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found', "Namespace", namespace)
                if space is not None and space["metadata"].get("deletionTimestamp"):
                    raise ApiError(403, "Forbidden", f"unable to create new content in namespace {namespace} "
                                                     "because it is being terminated")
            if validate:
                self.validate(resource, obj)
            key = self._key(resource, namespace, metadata["name"])
            if key in self.objects:
                raise ApiError(409, "AlreadyExists", f'{resource} "{metadata["name"]}" already exists',
                               RESOURCES[resource][2], metadata["name"])
            metadata.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
            metadata.pop("resourceVersion", None)
            if resource == "services":
                number = next(self.counter)
                obj["spec"].setdefault("clusterIP", f"10.96.{number // 250}.{number % 250 + 1}")
            self.objects[key] = obj
            self._emit(resource, "ADDED", obj)
            return copy.deepcopy(obj)

    def replace(self, resource, namespace, name, obj, validate=True):
        with self.lock:
            live = self.objects.get(self._key(resource, namespace, name))
            if live is None:
                raise ApiError(404, "NotFound", f'{resource} "{name}" not found', RESOURCES[resource][2], name)
            obj = copy.deepcopy(obj)
            given = obj["metadata"].get("resourceVersion")
            if validate and given != live["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}": the object '
                                                "has been modified; please apply your changes to the latest "
                                                "version and try again", RESOURCES[resource][2], name)
            if validate:
                self.validate(resource, obj)
            for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "namespace"):
                if field in live["metadata"]:
                    obj["metadata"][field] = live["metadata"][field]
            if "status" in live and validate:
                obj["status"] = live["status"]
            if resource == "services":
                obj["spec"].setdefault("clusterIP", live["spec"].get("clusterIP"))
            if json.dumps(obj.get("spec"), sort_keys=True) != json.dumps(live.get("spec"), sort_keys=True):
                obj["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
            self.objects[self._key(resource, namespace, name)] = obj
            self._emit(resource, "MODIFIED", obj)
            return copy.deepcopy(obj)

    def patch(self, resource, namespace, name, patch):
        with self.lock:
            live = self.get(resource, namespace, name)
            merged = merge(live, patch)
            self.validate(resource, merged)
            return self.replace(resource, namespace, name, merged, validate=False)

    def update(self, resource, namespace, name, change):
        """A controller's own write (status, deletion marks): `change(obj)` edits a copy; not validated."""
        with self.lock:
            live = self.objects.get(self._key(resource, namespace, name))
            if live is None:
                return None
            edited = copy.deepcopy(live)
            change(edited)
            if edited == live:
                return live
            self.objects[self._key(resource, namespace, name)] = edited
            self._emit(resource, "MODIFIED", edited)
            return edited

    def remove(self, resource, namespace, name):
        with self.lock:
            found = self.objects.pop(self._key(resource, namespace, name), None)
            if found is not None:
                self._emit(resource, "DELETED", found)
            return found

    def compact(self):
        """Forgets the event history, as etcd's compaction does, and ends the open watches: a watch that
        resumes from a version seen before now answers 410 Gone; a list gives a version to watch from."""
        with self.lock:
            self.version += 1
            self.oldest = self.version
            self.events.clear()
            self.expired += 1
            self.changed.notify_all()

    def events_after(self, version, resource, namespace, selector):
        """Events newer than `version`, or raises 410 when that version was compacted away."""
        if version and int(version) < self.oldest:
            raise ApiError(410, "Expired", f"too old resource version: {version} ({self.oldest})")
        return [(v, kind, obj) for v, r, kind, obj in self.events
                if v > int(version or 0) and r == resource
                and namespace in (None, obj["metadata"].get("namespace"))
                and selected(obj["metadata"].get("labels"), selector)]
