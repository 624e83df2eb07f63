"""Releases: each config change, build or rollback makes version N+1 and, once a build exists, deploys it."""
from flask import current_app
from sqlalchemy import func

from core import images
from core.config_changes import check_merged
from core.errors import Conflict, ValidationError
from core.extensions import db
from core.models import Build, Config, Release
from core.models.release import CONFIG_FIELDS
from core.services import events, gc, operations
from core.services.apps import lock

RELEASE_PHASE = "release"  # a Procfile type run once before a release goes live, never scaled
LIMIT_FIELDS = {"memory": "limits", "cpu": "limits", "tags": "tags", "registry": "registry info",
                "healthcheck": "healthchecks"}


def latest(app):
    return db.session.execute(
        db.select(Release).where(Release.app_uuid == app.uuid).order_by(Release.version.desc()).limit(1)
    ).scalar_one()


def latest_good(app):
    """The newest release that did not fail: its config is the app's config."""
    return db.session.execute(
        db.select(Release).where(Release.app_uuid == app.uuid, Release.failed.is_(False))
        .order_by(Release.version.desc()).limit(1)).scalar_one()


def by_version(app, version):
    return db.session.execute(
        db.select(Release).where(Release.app_uuid == app.uuid, Release.version == version)).scalar_one_or_none()


def _next_version(app):
    return db.session.execute(
        db.select(func.max(Release.version)).where(Release.app_uuid == app.uuid)).scalar() + 1


def config_changes(old, new):
    """Words for what changed between two configs, e.g. ["added FOO, BAR", "changed limits for web=512M"]."""
    changes = []
    old_values, new_values = old.get("values", {}), new.get("values", {})
    added = sorted(set(new_values) - set(old_values))
    changed = sorted(k for k in set(new_values) & set(old_values) if new_values[k] != old_values[k])
    removed = sorted(set(old_values) - set(new_values))
    for verb, keys in (("added", added), ("changed", changed), ("removed", removed)):
        if keys:
            changes.append(f"{verb} {', '.join(keys)}")
    for name, words in LIMIT_FIELDS.items():
        before, after = old.get(name, {}), new.get(name, {})
        if before == after:
            continue
        if name in ("memory", "cpu"):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(after.items())) or "defaults"
            changes.append(f"changed {words} for {shown}")
        else:
            changes.append(f"changed {words}")
    return changes


def supersede_deployed(app):
    db.session.execute(db.update(Release).where(Release.app_uuid == app.uuid, Release.state == "deployed")
                       .values(state="superseded"))


def create(app, user, config, build, summary):
    """Release N+1. Without a build there is nothing to run, so it is in force at once."""
    if build is None:
        supersede_deployed(app)
    release = Release(app=app, owner=user, version=_next_version(app), config=config, build=build,
                      summary=summary, state="pending" if build is not None else "deployed")
    db.session.add(release)
    db.session.flush()
    events.record(app, f"{summary} (v{release.version})")
    return release


def new_config(app, user, changes):
    """Makes a Config from the current one plus `changes`; 409 if it changes nothing."""
    current = latest_good(app)
    old = current.config.fields()
    merged = {name: dict(old[name]) for name in CONFIG_FIELDS}
    for name, updates in changes.items():
        merged[name] = updates(merged[name])
    check_merged(merged)
    _check_size(merged["values"], current_app.config["PIER"].max_config_bytes)
    words = config_changes(old, merged)
    if not words:
        raise Conflict(f"{user.username} changed nothing - release stopped")
    config = Config(app=app, owner=user, **merged)
    db.session.add(config)
    return create(app, user, config, current.build, f"{user.username} {', '.join(words)}"), config


def _check_size(values, most):
    """Each release copies the whole config: its size is bounded, so one app cannot fill the database."""
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in values.items())
    if size > most:
        raise ValidationError({"values": [f"The config would take {size} bytes; an app's config may take "
                                          f"{most} (PIER_MAX_CONFIG_BYTES). Keep large data in files or storage."]})


def structure_for(current, procfile):
    """The scale to run a build at: its process types keep their current counts; when none of them runs
    yet, web (or cmd, for an image without a Procfile) starts at 1 and the others at 0."""
    types = [t for t in procfile if t != RELEASE_PHASE] or ["cmd"]
    structure = {t: current.get(t, 0) for t in types}
    if not any(current.get(t) for t in types):
        for routable in ("web", "cmd"):
            if routable in structure:
                structure[routable] = 1
                break
    return structure


def new_build(app, user, image, procfile=None, sha="", dockerfile=""):
    settings = current_app.config["PIER"]
    try:
        images.check(image, app.id, settings.registry)
    except ValueError as exc:
        raise ValidationError({"image": [str(exc)]}) from None
    current = latest_good(app)
    previous_build = current.build
    procfile = procfile or {}
    if settings.reject_if_procfile_missing and previous_build and previous_build.procfile and not procfile:
        raise Conflict("Last build had a Procfile and this one does not: add a Procfile or unset "
                       "PIER_DEPLOY_REJECT_IF_PROCFILE_MISSING.")
    build = Build(app=app, owner=user, image=image, sha=sha, procfile=procfile, dockerfile=dockerfile)
    db.session.add(build)
    label = sha[:7] if sha else image
    release = create(app, user, current.config, build, f"{user.username} deployed {label}")
    return build, release


def rollback(app, user, version=None):
    current = latest(app)
    target_version = current.version - 1 if version is None else version
    if target_version < 1:
        raise ValidationError("version cannot be below 0")
    if target_version == 1:
        raise ValidationError("Cannot roll back to initial release.")
    target = by_version(app, target_version)
    if target is None:
        raise ValidationError(f"Release v{target_version} does not exist.")
    if target.failed:
        raise ValidationError("Cannot roll back to failed release.")
    if target.build is not None and target.build.collected is not None:
        raise ValidationError(gc.collected_message(target_version, current_app.config["PIER"]))
    if target.build is None and current.build is not None:
        # it would leave the app a release with nothing to run while the old containers kept serving
        raise ValidationError(f"Cannot roll back to v{target_version}: it predates the app's first build.")
    return create(app, user, target.config, target.build, f"{user.username} rolled back to v{target_version}")


def deploy_if_built(app, user, release, origin):
    """Adds the deploy operation for a release that has a build; refuses a second concurrent deploy.
    `origin` (config, build or rollback) words the summary if the deploy fails."""
    if release.build is None:
        return None
    if operations.active(app):
        raise Conflict(f"Deployment for {app.id} is already in progress")
    return operations.add(app, user, "deploy", release=str(release.uuid), origin=origin)


def process_types(build):
    """The types a build can run: its Procfile's, but the release phase; `cmd` for an image without one."""
    return set(build.procfile) - {RELEASE_PHASE} or {"cmd"}


# -- use cases: each locks the app, writes its rows, commits, then enqueues the deploy ---------------------

def change_config(app, user, changes):
    """(release, config, deploy operation or None) for a config change."""
    lock(app)
    release, config = new_config(app, user, changes)
    operation = deploy_if_built(app, user, release, "config")
    operations.commit_and_enqueue(operation)
    return release, config, operation


def add_build(app, user, image, procfile=None, sha="", dockerfile=""):
    """(build, release, deploy operation) for a new image, from `builds:create` or a `git push`."""
    lock(app)
    build, release = new_build(app, user, image, procfile, sha, dockerfile)
    operation = deploy_if_built(app, user, release, "build")
    operations.commit_and_enqueue(operation)
    return build, release, operation


def roll_back(app, user, version=None):
    """(release, deploy operation or None) for a rollback to `version`, or to the one before the latest."""
    lock(app)
    release = rollback(app, user, version)
    operation = deploy_if_built(app, user, release, "rollback")
    operations.commit_and_enqueue(operation)
    return release, operation


# -- outcomes, recorded by the workers ----------------------------------------------------------------------

def mark_deployed(app, release, structure):
    """The release runs at `structure`: it is now the app's deployed release."""
    supersede_deployed(app)
    app.structure = structure
    release.state = "deployed"
    events.record(app, f"release v{release.version} deployed")


def mark_failed(release, error, origin):
    """A deploy of `release` failed; the previous release keeps serving and stays the app's config."""
    release.failed, release.state, release.exception = True, "failed", error
    if origin == "config" and release.owner is not None:
        release.summary = f"{release.owner.username} deployed a config that failed"
    events.record(release.app, f"release v{release.version} failed: {error}")


def record_scale(app, changes, structure):
    app.structure = structure
    events.record(app, "scaled " + ", ".join(f"{k}={v}" for k, v in sorted(changes.items())))


def record_repair(app, release, reasons):
    events.record(app, f"v{release.version} redeployed in place: " + ("; ".join(reasons) or "its processes drifted"))
