"""An app's processes: scaling them, restarting them and one-off runs, each as an enqueued operation."""
from flask import current_app

from core import validators
from core.errors import BadRequest, Conflict, TooManyRequests, ValidationError
from core.extensions import db
from core.models import AppSettings, Operation
from core.services import events, operations, releases
from core.services.app_settings import latest
from core.services.apps import lock


def check_structure(wanted):
    """{type: count} from a scale request, or a 400 naming each bad entry."""
    most = current_app.config["PIER"].max_replicas
    errors = {}
    for name, count in wanted.items():
        try:
            validators.process_type(name)
        except ValueError as exc:
            errors[name] = [str(exc)]
            continue
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= most:
            errors[name] = [f"Invalid scaling format: use a whole number from 0 to {most} "
                            "(PIER_MAX_REPLICAS)."]
    if errors:
        raise ValidationError(errors)
    return wanted


def scale(app, user, wanted):
    lock(app)
    check_structure(wanted)
    autoscaled = sorted(set(wanted) & set(latest(AppSettings, app).autoscale))
    if autoscaled:
        names = ", ".join(autoscaled)
        raise Conflict(f"{names} {'is' if len(autoscaled) == 1 else 'are'} autoscaled: the autoscaler sets "
                         f"{'its' if len(autoscaled) == 1 else 'their'} count; run pier autoscale:unset "
                         f"{autoscaled[0]} to scale by hand.")
    return _enqueue_scale(app, user, wanted)


def autoscale(app, changes):
    """The autoscaler's scale ({process type: (count, why)}), as a scale operation of nobody's, each change
    written in the app's log. None when a job holds the app or is settling (a deploy's counts are not fought):
    the next round decides again."""
    lock(app)
    if operations.active(app, operations.AFTER_SETTLING) or operations.settling(app):
        db.session.rollback()
        return None
    structure = dict(app.structure)
    notes = [f"autoscaled {t} {structure.get(t, 0)}\u2192{count}, {why}" for t, (count, why) in sorted(changes.items())]
    return _enqueue_scale(app, None, {t: count for t, (count, _) in changes.items()}, notes)


def _enqueue_scale(app, user, wanted, notes=()):
    release = releases.latest_good(app)
    if release.build is None:
        raise BadRequest("No build associated with this release")
    known = releases.process_types(release.build)
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise BadRequest(f"Container type {', '.join(unknown)} does not exist in application; "
                         f"the types are {', '.join(sorted(known))}")
    if operations.active(app):
        raise Conflict(f"A deploy or scale of {app.id} is already in progress; try again when it ends.")
    for note in notes:
        events.record(app, note)
    return operations.commit_and_enqueue(
        operations.add(app, user, "scale", release=str(release.uuid), structure=wanted))


def run(app, user, command):
    most = current_app.config["PIER"].max_runs_per_user
    going = db.session.execute(db.select(db.func.count(Operation.uuid)).where(
        Operation.owner_id == user.id, Operation.kind == "run", Operation.state.in_(operations.ACTIVE))).scalar()
    if going >= most:
        raise TooManyRequests(f"{user.username} has {going} one-off runs going, the most a user may have at once "
                              "(PIER_MAX_RUNS_PER_USER); try again when one ends.", retry_after=10)
    release = releases.latest_good(app)
    if release.build is None:
        raise BadRequest("No build associated with this release to run this command")
    return operations.commit_and_enqueue(
        operations.add(app, user, "run", release=str(release.uuid), command=command))


def restart(app, user, process_type=None, name=None):
    return operations.commit_and_enqueue(operations.add(app, user, "restart", type=process_type, name=name))
