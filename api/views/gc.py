"""Garbage collection of old builds, for administrators: run it now, as an operation."""
from flask import g
from marshmallow import Schema

from api.auth import require_admin
from api.blueprint import v2
from api.http import created, load
from api.operations import respond
from core.services import gc


@v2.route("/gc", methods=["POST"])
def collect_garbage():
    require_admin()
    load(Schema())  # no fields: anything sent is a 400
    operation = gc.request(g.user)
    return respond(operation, lambda op: created(op.result or {}))
