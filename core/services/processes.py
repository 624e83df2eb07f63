"""An app's processes: scaling them, restarting them and one-off runs, each as an enqueued operation."""
from flask import current_app

from core import validators
from core.errors import BadRequest, Conflict, TooManyRequests, ValidationError
from core.extensions import db
from core.models import Operation
from core.services import operations, releases
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
