"""Router-facing settings: maintenance, routable, autoscale, labels, whitelist and TLS enforcement."""
from flask import g, jsonify
from marshmallow import Schema, fields

from api import validators
from api.auth import app_for_request
from api.errors import Conflict, UnprocessableEntity, ValidationError
from api.extensions import db
from api.http import created, json_body, load, no_content
from api.models import TLS, AppSettings
from api.schemas.fields import StrictBoolean
from api.schemas.resources import dump_settings, dump_tls
from api.services import events
from api.views import v2


class AddressesSchema(Schema):
    addresses = fields.List(fields.Raw(), required=True)


class TLSSchema(Schema):
    https_enforced = StrictBoolean(required=True)


def latest(model, app):
    return db.session.execute(db.select(model).where(model.app_uuid == app.uuid)
                              .order_by(model.created.desc()).limit(1)).scalar_one()


def _autoscale(proc, rule):
    validators.process_type(proc)
    if not isinstance(rule, dict) or set(rule) != {"min", "max", "cpu_percent"}:
        raise ValueError(f"{proc}: autoscale needs exactly min, max and cpu_percent.")
    if not all(isinstance(rule[k], int) and not isinstance(rule[k], bool) for k in rule):
        raise ValueError(f"{proc}: min, max and cpu_percent must be whole numbers.")
    if not 1 <= rule["min"] <= rule["max"] <= 1000:
        raise ValueError(f"{proc}: need 1 <= min <= max <= 1000.")
    if not 1 <= rule["cpu_percent"] <= 100:
        raise ValueError(f"{proc}: cpu_percent must be from 1 to 100.")
    return rule


def _label(key, value):
    validators.tag(key, value if isinstance(value, str) else "")
    if not isinstance(value, str):
        raise ValueError(f"label {key}: values must be strings.")
    return value


def _merge_map(name, old, updates, check, errors):
    if not isinstance(updates, dict):
        errors[name] = ["Expected an object of keys to values."]
        return old
    merged = dict(old)
    for key, value in updates.items():
        if value is None:
            if key not in merged:
                raise UnprocessableEntity(f"{key} does not exist under {name}")
            del merged[key]
            continue
        try:
            merged[key] = check(key, value)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    return merged


def _new_settings(app, current, **changes):
    row = AppSettings(app=app, owner=g.user, maintenance=current.maintenance, routable=current.routable,
                      whitelist=list(current.whitelist), autoscale=dict(current.autoscale),
                      label=dict(current.label))
    for name, value in changes.items():
        setattr(row, name, value)
    db.session.add(row)
    return row


@v2.route("/apps/<app_id>/settings", methods=["GET"])
def get_settings(app_id):
    return jsonify(dump_settings(latest(AppSettings, app_for_request(app_id))))


@v2.route("/apps/<app_id>/settings", methods=["POST"])
def set_settings(app_id):
    app = app_for_request(app_id, lock=True)
    body = json_body(allow_empty=False)
    allowed = {"maintenance", "routable", "autoscale", "label"}
    errors = {name: ["Unknown field."] for name in sorted(set(body) - allowed)}
    current = latest(AppSettings, app)
    changes = {}
    for name in ("maintenance", "routable"):
        if name in body and body[name] is not None:
            if not isinstance(body[name], bool):
                errors[name] = ["Must be a valid boolean."]
            else:
                changes[name] = body[name]
    for name, check in (("autoscale", _autoscale), ("label", _label)):
        if name in body and body[name] is not None:
            changes[name] = _merge_map(name, getattr(current, name), body[name], check, errors)
    if errors:
        raise ValidationError(errors)
    if all(getattr(current, name) == value for name, value in changes.items()):
        raise Conflict(f"{g.user.username} changed nothing")
    row = _new_settings(app, current, **changes)
    events.record(app, f"{g.user.username} changed settings: {', '.join(sorted(changes))}")
    db.session.commit()
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
    return jsonify({"addresses": list(latest(AppSettings, app_for_request(app_id)).whitelist)})


@v2.route("/apps/<app_id>/whitelist", methods=["POST"])
def add_whitelist(app_id):
    app = app_for_request(app_id, lock=True)
    wanted = _addresses()
    current = latest(AppSettings, app)
    addresses = list(current.whitelist) + [a for a in dict.fromkeys(wanted) if a not in current.whitelist]
    if addresses != list(current.whitelist):
        _new_settings(app, current, whitelist=addresses)
        events.record(app, f"{g.user.username} added {', '.join(wanted)} to the whitelist")
        db.session.commit()
    return created({"addresses": addresses})


@v2.route("/apps/<app_id>/whitelist", methods=["DELETE"])
def remove_whitelist(app_id):
    app = app_for_request(app_id, lock=True)
    unwanted = _addresses()
    current = latest(AppSettings, app)
    missing = sorted(set(unwanted) - set(current.whitelist))
    if missing:
        raise UnprocessableEntity(f"addresses {{{', '.join(missing)}}} does not exist in whitelist")
    _new_settings(app, current, whitelist=[a for a in current.whitelist if a not in unwanted])
    events.record(app, f"{g.user.username} removed {', '.join(unwanted)} from the whitelist")
    db.session.commit()
    return no_content()


@v2.route("/apps/<app_id>/tls", methods=["GET"])
def get_tls(app_id):
    return jsonify(dump_tls(latest(TLS, app_for_request(app_id))))


@v2.route("/apps/<app_id>/tls", methods=["POST"])
def set_tls(app_id):
    app = app_for_request(app_id, lock=True)
    enforced = load(TLSSchema())["https_enforced"]
    if latest(TLS, app).https_enforced == enforced:
        raise Conflict(f"{g.user.username} changed nothing")
    row = TLS(app=app, owner=g.user, https_enforced=enforced)
    db.session.add(row)
    events.record(app, f"{g.user.username} {'enforced' if enforced else 'stopped enforcing'} HTTPS")
    db.session.commit()
    return created(dump_tls(row))
