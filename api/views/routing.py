"""Router-facing settings: maintenance, routable, autoscale, labels, whitelist and TLS enforcement."""
from flask import g, jsonify
from marshmallow import Schema, fields

from api.auth import app_for_request
from api.blueprint import v2
from api.http import created, json_body, load, no_content
from api.schemas.fields import StrictBoolean
from api.schemas.resources import dump_settings, dump_tls
from core import validators
from core.errors import ValidationError
from core.models import TLS, AppSettings
from core.services import app_settings


class AddressesSchema(Schema):
    addresses = fields.List(fields.Raw(), required=True)


class TLSSchema(Schema):
    https_enforced = StrictBoolean(required=True)


@v2.route("/apps/<app_id>/settings", methods=["GET"])
def get_settings(app_id):
    return jsonify(dump_settings(app_settings.latest(AppSettings, app_for_request(app_id))))


@v2.route("/apps/<app_id>/settings", methods=["POST"])
def set_settings(app_id):
    app = app_for_request(app_id)
    row = app_settings.change(app, g.user, json_body(allow_empty=False))
    return created(dump_settings(row))


def _addresses():
    values = load(AddressesSchema())["addresses"]
    errors = []
    clean = []
    for value in values:
        try:
            clean.append(validators.address(value))
        except ValueError as exc:
            errors.append(str(exc))
    if errors or not clean:
        raise ValidationError({"addresses": errors or ["At least one address is required."]})
    return clean


@v2.route("/apps/<app_id>/whitelist", methods=["GET"])
def get_whitelist(app_id):
    return jsonify({"addresses": list(app_settings.latest(AppSettings, app_for_request(app_id)).whitelist)})


@v2.route("/apps/<app_id>/whitelist", methods=["POST"])
def add_whitelist(app_id):
    app = app_for_request(app_id)
    return created({"addresses": app_settings.whitelist_add(app, g.user, _addresses())})


@v2.route("/apps/<app_id>/whitelist", methods=["DELETE"])
def remove_whitelist(app_id):
    app = app_for_request(app_id)
    app_settings.whitelist_remove(app, g.user, _addresses())
    return no_content()


@v2.route("/apps/<app_id>/tls", methods=["GET"])
def get_tls(app_id):
    return jsonify(dump_tls(app_settings.latest(TLS, app_for_request(app_id))))


@v2.route("/apps/<app_id>/tls", methods=["POST"])
def set_tls(app_id):
    app = app_for_request(app_id)
    enforced = load(TLSSchema())["https_enforced"]
    return created(dump_tls(app_settings.set_https_enforced(app, g.user, enforced)))
