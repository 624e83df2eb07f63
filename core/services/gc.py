"""Garbage collection of old builds, as a platform operation: taken on schedule or by an administrator.

Per app, the worker asks for a plan (which locks the app's row, so no build, rollback or config change of it
is made meanwhile), deletes what the plan collects from the registry, object storage and the engine, then
records the builds it collected, which commits. A rollback to a release of a collected build is refused.
"""
from dataclasses import dataclass, field

from core import images
from core.errors import Conflict
from core.extensions import db
from core.models import App, Build, Operation, Release
from core.models.base import utcnow
from core.retention import ReleaseFacts, kept_builds
from core.services import events, operations
from core.storage.keys import build_prefix


def request(user):
    """Enqueues a garbage collection; `user` is None for the scheduled one."""
    if collecting():
        raise Conflict("Garbage collection is running already; try again when it ends.")
    return operations.commit_and_enqueue(operations.add(None, user, "gc"))


def collecting():
    return db.session.execute(db.select(Operation.uuid).where(
        Operation.kind == "gc", Operation.state.in_(operations.ACTIVE)).limit(1)).first() is not None


def apps():
    """(uuid, id) of every app, by name."""
    found = db.session.execute(db.select(App.uuid, App.id).order_by(App.id)).all()
    db.session.rollback()
    return [tuple(row) for row in found]


@dataclass
class Plan:
    app_id: str
    registry: str  # Pier's registry, as builds name it
    kept_images: set = field(default_factory=set)   # image references of the kept builds
    kept_tags: set = field(default_factory=set)     # ... those in the app's repository in Pier's registry
    kept_folders: set = field(default_factory=set)  # their object storage folders
    collect: list = field(default_factory=list)     # builds to collect, oldest first

    def tag(self, build):
        return images.own_tag(build.image, self.app_id, self.registry)

    def folder(self, build):
        return build_prefix(self.app_id, build.sha) if build.sha else None


def plan(app_uuid, settings):
    """Locks the app's row until `record` commits, and returns what to keep and what to collect; None when
    the app is gone. Only images of the app's own repository in Pier's registry are collected: an image from
    elsewhere is not Pier's to delete, and a build that shares its image with a kept build stays usable."""
    locked = db.session.execute(db.select(App.uuid).where(App.uuid == app_uuid).with_for_update()).first()
    app = db.session.get(App, app_uuid) if locked else None
    if app is None:
        db.session.rollback()
        return None
    facts = [ReleaseFacts(*row) for row in db.session.execute(
        db.select(Release.version, Release.build_uuid, Release.state, Release.failed)
        .where(Release.app_uuid == app.uuid))]
    kept = kept_builds(facts, settings.retention_releases)
    result = Plan(app.id, settings.registry)
    builds = db.session.execute(db.select(Build).where(Build.app_uuid == app.uuid)
                                .order_by(Build.created)).scalars().all()
    kept_rows = [b for b in builds if b.uuid in kept]
    result.kept_images = {b.image for b in kept_rows}
    result.kept_tags = {result.tag(b) for b in kept_rows} - {None}
    result.kept_folders = {result.folder(b) for b in kept_rows} - {None}
    result.collect = [b for b in builds if b.uuid not in kept and b.collected is None
                      and b.image not in result.kept_images and result.tag(b) is not None]
    return result


def record(app_uuid, collected, settings):
    """Marks the builds whose images were deleted, tells the app's log, and commits (freeing the app)."""
    app = db.session.get(App, app_uuid)
    if app is not None and collected:
        now = utcnow()
        for build in collected:
            build.collected = now
        versions = db.session.execute(
            db.select(Release.version).where(Release.build_uuid.in_([b.uuid for b in collected]))
            .order_by(Release.version)).scalars().all()
        events.record(app, f"garbage collection deleted the images of {len(collected)} old builds "
                           f"(releases {', '.join(f'v{v}' for v in versions) or 'none'}); "
                           f"PIER_RETENTION_RELEASES keeps the last {settings.retention_releases}")
    db.session.commit()


def collected_message(version, settings):
    return (f"Release v{version}'s image was collected by garbage collection (PIER_RETENTION_RELEASES keeps the "
            f"last {settings.retention_releases}); deploy it again with git push or builds:create")
