"""The database's backups, for administrators: the list the workers last read, and taking one now."""
import datetime

from flask import current_app, g, jsonify
from marshmallow import Schema, fields, validate

from api.auth import require_admin
from api.blueprint import v2
from api.http import created, load
from api.operations import respond
from core.backup_states import BackupStates
from core.backups import KINDS
from core.services import backups


class BackupSchema(Schema):
    type = fields.String(load_default="full", validate=validate.OneOf(KINDS))


@v2.route("/backups", methods=["GET"])
def list_backups():
    require_admin()
    state = BackupStates(current_app.config["PIER"].redis_url).read() or {"backups": [], "error": None,
                                                                          "observed": None}
    observed = state["observed"]
    return jsonify({"count": len(state["backups"]), "next": None, "previous": None, "results": state["backups"],
                    "error": state["error"],
                    "observed": datetime.datetime.fromtimestamp(observed, datetime.timezone.utc)
                    .strftime("%Y-%m-%dT%H:%M:%SZ") if observed else None})


@v2.route("/backups", methods=["POST"])
def take_backup():
    require_admin()
    operation = backups.request(g.user, load(BackupSchema())["type"])
    return respond(operation, lambda op: created(op.result or {}))
