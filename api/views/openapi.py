"""The OpenAPI document of this API: documentation without secrets, so anyone may read it."""
from flask import jsonify

from api.auth import ANONYMOUS, allow
from api.blueprint import v2
from api.openapi_spec import build_spec


@v2.route("/openapi.json", methods=["GET"])
@allow(ANONYMOUS)
def openapi_document():
    return jsonify(build_spec())
