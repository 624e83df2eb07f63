"""App logs: platform events (from the database) and the processes' output (from the log store), merged by
time, optionally followed."""
from flask import Response, current_app, g, request, stream_with_context

from api import streams
from api.auth import app_for_request
from api.blueprint import v2
from core.errors import ValidationError
from core.extensions import db
from core.logs import LogStore
from core.models import AppEvent

MAX_LINES = 10000
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
FOLLOW_WAIT_SECONDS = 1.0


def _event_lines(app_uuid, lines=None, after_id=0):
    """Platform events as (timestamp, text), oldest first, and the id of the newest one."""
    select = db.select(AppEvent).where(AppEvent.app_uuid == app_uuid, AppEvent.id > after_id)
    if lines is None:
        rows = db.session.execute(select.order_by(AppEvent.id)).scalars().all()
    else:
        rows = list(reversed(db.session.execute(select.order_by(AppEvent.id.desc()).limit(lines)).scalars().all()))
    entries = [(e.created.strftime(STAMP), f"{e.created.strftime(STAMP)} pier[controller]: {e.message}\n")
               for e in rows]
    return entries, (rows[-1].id if rows else after_id)


def _output_lines(app_id, entries):
    return [(stamp, f"{stamp} {app_id}[{source}]: {text}\n") for stamp, source, text in entries]


def _lines_wanted():
    try:
        lines = int(request.args.get("log_lines", current_app.config["PIER"].log_lines))
    except ValueError:
        raise ValidationError({"log_lines": ["A valid integer is required."]}) from None
    if not 1 <= lines <= MAX_LINES:
        raise ValidationError({"log_lines": [f"Ensure this value is between 1 and {MAX_LINES}."]})
    return lines


def _follow(store, app_id, app_uuid, history, last_event, cursor, sock):
    yield "".join(text for _, text in history)
    while not streams.gone(sock):  # a client that went away frees its thread within a second
        db.session.rollback()  # never hold a snapshot (or locks) while waiting
        output, cursor = store.follow(app_id, cursor, FOLLOW_WAIT_SECONDS)
        events, last_event = _event_lines(app_uuid, after_id=last_event)
        new = sorted(events + _output_lines(app_id, output))
        if new:
            yield "".join(text for _, text in new)


@v2.route("/apps/<app_id>/logs", methods=["GET"])
def app_logs(app_id):
    app = app_for_request(app_id)
    lines = _lines_wanted()
    store = LogStore(current_app.config["PIER"].redis_url)
    events, last_event = _event_lines(app.uuid, lines)
    output, cursor = store.tail(app.id, lines)
    history = sorted(events + _output_lines(app.id, output))[-lines:]
    if request.args.get("follow", "").lower() in ("true", "1", "yes"):
        settings = current_app.config["PIER"]
        streams.SLOTS.take(g.user, settings.log_follow_per_user, settings.log_follow_max)
        user = g.user
        follow = _follow(store, app.id, app.uuid, history, last_event, cursor, streams.client_socket())
        response = Response(stream_with_context(follow), mimetype="text/plain")
        response.call_on_close(lambda: streams.SLOTS.give_back(user))  # also when the stream never started
        return response
    if not history:
        return "", 204
    return Response("".join(text for _, text in history), mimetype="text/plain")
