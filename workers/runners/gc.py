"""Garbage collection: old builds leave the registry, object storage and the engine; then the registry sweeps
the layers no manifest uses any more. What each app keeps is the core's to say (core.retention)."""
import logging
from dataclasses import dataclass, field

from core.push_locks import PushLocks
from core.services import gc
from core.storage import store_for
from workers import registry as registries
from workers.build.images import remove_images
from workers.registry import Registry
from workers.registry_gate import RegistryGate

log = logging.getLogger("pier.gc")
DRAIN_SECONDS = 300   # how long the sweep waits for builds' pushes in progress; then it is left to the next run
SWEEP_SECONDS = 1200  # the longest `docker-registry garbage-collect` may run
APP_LOCK_SECONDS = 60  # an app's push lock while its builds are collected, renewed after each one


@dataclass
class Freed:
    manifests: int = 0
    tags: int = 0
    storage_keys: int = 0
    storage_bytes: int = 0
    engine_images: list = field(default_factory=list)


def collect(operation, settings):
    """The operation's job: every app's old builds, then the registry's sweep. Returns what was freed."""
    registry, store, freed, apps = Registry(settings), store_for(settings), Freed(), {}
    locks = PushLocks(settings.redis_url, APP_LOCK_SECONDS)
    for app_uuid, app_id in gc.apps():
        outcome = collect_app(app_uuid, app_id, settings, registry, store, locks, freed)
        if outcome:
            apps[app_id] = outcome
    removed, engine_bytes = remove_images(freed.engine_images)
    sweep = sweep_registry(settings, DRAIN_SECONDS)
    log.info("garbage collection: %d manifests, %d storage keys (%d bytes), %d engine images (%d bytes); "
             "registry: %s", freed.manifests, freed.storage_keys, freed.storage_bytes, len(removed), engine_bytes,
             sweep)
    return {"retention_releases": settings.retention_releases, "apps": apps,
            "registry_manifests": freed.manifests, "registry_tags": freed.tags,
            "storage_keys": freed.storage_keys, "storage_bytes": freed.storage_bytes,
            "engine_images": len(removed), "engine_bytes": engine_bytes, "registry_sweep": sweep}


def collect_app(app_uuid, app_id, settings, registry, store, locks, freed):
    """One app's old builds, under its push lock (a push of an old commit would reuse the tag and storage
    folder being deleted) and its row lock (held by the plan until `record` commits). Returns the app's line
    of the report, or None when it had nothing to collect."""
    lock = locks.acquire(app_id)
    if lock is None:
        return {"skipped": "a git push of this app is in progress; the next collection takes it"}
    collected, shared = [], []
    try:
        plan = gc.plan(app_uuid, settings)
        if plan is None:
            return None
        try:
            kept_digests = {registry.digest(app_id, tag) for tag in plan.kept_tags} - {None}
            candidates = [(build, plan.tag(build)) for build in plan.collect]
            digests = [registry.digest(app_id, tag) for _, tag in candidates]  # all before any is deleted
            deleted = set()
            for (build, tag), digest in zip(candidates, digests):
                if digest in kept_digests:  # deleting the manifest would delete a kept build's tag with it
                    shared.append(tag)
                    continue
                if digest is not None:
                    freed.tags += 1
                    if digest not in deleted:
                        registry.delete_manifest(app_id, digest)
                        deleted.add(digest)
                        freed.manifests += 1
                collected.append((build, tag))
                _delete_folder(store, plan, build, freed)
                freed.engine_images.append(build.image)
                locks.renew(lock)
        finally:
            gc.record(app_uuid, [build for build, _ in collected], settings)
    finally:
        locks.release(app_id, lock)
    if not collected and not shared:
        return None
    return {"collected": [tag for _, tag in collected], "shared_with_kept": shared}


def _delete_folder(store, plan, build, freed):
    folder = plan.folder(build)
    if folder is None or folder in plan.kept_folders:
        return
    sizes = store.sizes(folder)
    store.delete_prefix(folder)
    freed.storage_keys += len(sizes)
    freed.storage_bytes += sum(sizes.values())


def sweep_registry(settings, drain_seconds):
    """`docker-registry garbage-collect` over the registry's storage, with builds' pushes held at the gate.
    Returns the blobs deleted and the bytes the registry's data folder shrank by, or why it was skipped."""
    config = registries.config_path(settings)
    if config is None or not config.is_file():
        return {"skipped": f"no registry config on this machine ({config or 'PIER_REGISTRY_CONFIG is empty'}); "
                           "the registry's layers were not swept"}
    folder = registries.data_folder(config)
    with RegistryGate(settings.redis_url).closed(drain_seconds + SWEEP_SECONDS + 60, drain_seconds) as pushing:
        if pushing < 0:
            return {"skipped": "another garbage collection is sweeping the registry"}
        if pushing:
            return {"skipped": f"{pushing} builds were still pushing to the registry after {drain_seconds:g} s; "
                               "the next collection sweeps"}
        before = registries.folder_bytes(folder) if folder else None
        marked, deleted = registries.garbage_collect(config, SWEEP_SECONDS)
        after = registries.folder_bytes(folder) if folder else None
    return {"blobs_marked": marked, "blobs_deleted": deleted,
            "bytes_before": before, "bytes_after": after,
            "bytes_freed": before - after if folder else None}


def scheduled():
    """Beat's entry point: a collection as a platform operation (it shows in the operations API)."""
    try:
        gc.request(None)
    except Exception as exc:  # noqa: BLE001 - e.g. one is running already; the next schedule tries again
        log.warning("scheduled garbage collection not started: %s", exc)
