"""Creating, transferring and destroying apps: the rows an app is made of."""
from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from core import validators
from core.errors import Conflict, Forbidden, ValidationError
from core.extensions import db
from core.models import TLS, App, AppSettings, Build, Certificate, Config, Domain, Release, User
from core.services import events, operations
from core.services.names import random_name

CHILD_MODELS = (AppSettings, Build, Config, Domain, Release, TLS)


def _taken(app_id):
    return db.session.execute(db.select(App.uuid).where(App.id == app_id)).first() is not None


def _unused_random_name(reserved):
    for _ in range(100):
        name = random_name()
        if name not in reserved and not _taken(name):
            return name
    raise Conflict("Could not find a free random app name; please choose one with `id`.")


def create(owner, app_id=None):
    settings = current_app.config["PIER"]
    if app_id is None:
        app_id = _unused_random_name(settings.reserved_names)
    try:
        validators.app_id(app_id, settings.reserved_names)
    except ValueError as exc:
        raise ValidationError({"id": [str(exc)]}) from None
    if _taken(app_id) or db.session.execute(db.select(Domain.uuid).where(Domain.domain == app_id)).first():
        raise Conflict("App with this id already exists.")
    _check_quota(owner, settings.max_apps_per_user)
    app = App(id=app_id, owner=owner, structure={})
    config = Config(app=app, owner=owner)
    db.session.add_all([
        app, config,
        Release(app=app, owner=owner, version=1, config=config, state="deployed",
                summary=f"{owner.username} created initial release"),
        AppSettings(app=app, owner=owner),
        TLS(app=app, owner=owner),
        Domain(app=app, owner=owner, domain=app_id),
    ])
    db.session.flush()
    events.record(app, f"{owner.username} created {app_id}")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("App with this id already exists.") from None
    return app


def _check_quota(owner, most):
    """Administrators have no quota; others may own `most` apps. The owner's row is held, so two creates at
    once cannot both pass the count."""
    if owner.is_superuser:
        return
    db.session.execute(db.select(User.id).where(User.id == owner.id).with_for_update())
    owned = db.session.execute(db.select(func.count(App.uuid)).where(App.owner_id == owner.id)).scalar()
    if owned >= most:
        raise Forbidden(f"{owner.username} owns {owned} apps, the most a user may own (PIER_MAX_APPS_PER_USER); "
                        "destroy one, or ask an administrator.")


def transfer(app, new_owner):
    """Gives the app, and the records it owns, to another user."""
    app.owner = new_owner
    for model in CHILD_MODELS:
        db.session.execute(db.update(model).where(model.app_uuid == app.uuid).values(owner_id=new_owner.id))
    events.record(app, f"ownership transferred to {new_owner.username}")
    db.session.commit()


def lock(app):
    """Holds the app's row until the use case commits, so that its changes are made one at a time."""
    db.session.execute(db.select(App.uuid).where(App.uuid == app.uuid).with_for_update())


def destroy(app, user):
    """Enqueues the removal of the app's processes and everything stored for it, then of its rows."""
    lock(app)
    if operations.active(app):
        raise Conflict(f"A deploy, scale or destroy of {app.id} is in progress; try again when it ends.")
    return operations.commit_and_enqueue(operations.add(app, user, "destroy"))


def kept(app_uuid):
    """Whether the app of this uuid still exists and no destroy of it is pending or running: what a job that
    wrote something of the app's after its destroy could have begun checks once it wrote it (else it removes it).
    A destroy enqueued after this answer removes what was written before it."""
    app = db.session.get(App, app_uuid)
    answer = app is not None and not operations.active(app, kinds=("destroy",))
    db.session.rollback()
    return answer


def remove(app):
    """Deletes the app's rows (its children go with it), and the certificates attached to its domains only;
    the worker's outcome commits."""
    mine = db.select(Domain.certificate_id).where(Domain.app_uuid == app.uuid, Domain.certificate_id.is_not(None))
    elsewhere = db.select(Domain.certificate_id).where(Domain.app_uuid != app.uuid,
                                                       Domain.certificate_id.is_not(None))
    for cert in db.session.execute(db.select(Certificate).where(Certificate.id.in_(mine),
                                                                Certificate.id.not_in(elsewhere))).scalars():
        db.session.delete(cert)
    db.session.delete(app)


def repair(app, reasons):
    """Enqueues the redeploy in place of an app whose processes drifted, unless a job already holds the app
    (it will leave the app as it should be). Returns the operation, or None."""
    lock(app)
    if operations.active(app):
        db.session.rollback()
        return None
    return operations.commit_and_enqueue(operations.add(app, None, "repair", reasons=reasons))
