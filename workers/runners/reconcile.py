"""The reconcile loop: desired state (database) against running containers; drift is repaired."""
import logging

from flask import current_app

from api.extensions import db
from api.models import App, Release
from api.services import operations
from workers.runners.specs import release_spec
from workers.scheduler import SchedulerError, get_scheduler
from workers.scheduler.docker_spec import container_name

log = logging.getLogger("pier.reconcile")


def expected_names(spec, structure):
    return {container_name(spec, t, i) for t, count in structure.items() for i in range(count)}


def running_release(app):
    return db.session.execute(
        db.select(Release).where(Release.app_uuid == app.uuid, Release.state == "deployed",
                                 Release.build_uuid.is_not(None)).order_by(Release.version.desc()).limit(1)
    ).scalar_one_or_none()


def settled_apps():
    """(app, spec of its deployed release) for every app that runs a release and has no job in progress:
    apps with a job are left to that job."""
    for app in db.session.execute(db.select(App).order_by(App.id)).scalars():
        release = running_release(app)
        if release is not None and not operations.active(app, tuple(operations.TASKS)):
            yield app, release_spec(app, release)


def reconcile_all():
    """Redeploys, in place, every app whose containers differ from its deployed release at its structure.
    Returns the ids of the apps it repaired."""
    scheduler = get_scheduler(current_app.config["PIER"])
    pods = scheduler.pods_by_app()
    repaired = []
    for app, spec in settled_apps():
        actual = {p["name"] for p in pods.get(app.id, [])}
        if actual == expected_names(spec, app.structure):
            continue
        try:
            scheduler.deploy(spec, dict(app.structure))
            repaired.append(app.id)
            log.info("reconciled %s to v%s at %s", app.id, spec["version"], app.structure)
        except SchedulerError as exc:
            log.warning("could not reconcile %s: %s", app.id, exc)
    db.session.commit()
    return repaired
