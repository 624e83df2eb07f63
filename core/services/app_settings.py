"""Router-facing settings of an app (maintenance, routable, autoscale, labels, whitelist) and TLS enforcement.
Each change is a new row; the newest one is in force."""
from flask import current_app

from core import validators
from core.errors import Conflict, UnprocessableEntity, ValidationError
from core.extensions import db
from core.models import TLS, AppSettings
from core.services import events
from core.services.apps import lock

SETTINGS_FIELDS = ("maintenance", "routable", "autoscale", "label")


def latest(model, app):
    return db.session.execute(db.select(model).where(model.app_uuid == app.uuid)
                              .order_by(model.created.desc()).limit(1)).scalar_one()


def _autoscale(proc, rule):
    validators.process_type(proc)
    if not isinstance(rule, dict) or set(rule) != {"min", "max", "cpu_percent"}:
        raise ValueError(f"{proc}: autoscale needs exactly min, max and cpu_percent.")
    if not all(isinstance(rule[k], int) and not isinstance(rule[k], bool) for k in rule):
        raise ValueError(f"{proc}: min, max and cpu_percent must be whole numbers.")
    most = current_app.config["PIER"].max_replicas
    if not 1 <= rule["min"] <= rule["max"] <= most:
        raise ValueError(f"{proc}: need 1 <= min <= max <= {most} (PIER_MAX_REPLICAS).")
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


def _new_settings(app, user, current, **changes):
    row = AppSettings(app=app, owner=user, maintenance=current.maintenance, routable=current.routable,
                      whitelist=list(current.whitelist), autoscale=dict(current.autoscale),
                      label=dict(current.label))
    for name, value in changes.items():
        setattr(row, name, value)
    db.session.add(row)
    return row


def change(app, user, body):
    """A settings change from a request body ({field: value}; maps merge, null values unset keys)."""
    lock(app)
    errors = {name: ["Unknown field."] for name in sorted(set(body) - set(SETTINGS_FIELDS))}
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
        raise Conflict(f"{user.username} changed nothing")
    row = _new_settings(app, user, current, **changes)
    events.record(app, f"{user.username} changed settings: {', '.join(sorted(changes))}")
    db.session.commit()
    return row


def whitelist_add(app, user, addresses):
    lock(app)
    current = latest(AppSettings, app)
    merged = list(current.whitelist) + [a for a in dict.fromkeys(addresses) if a not in current.whitelist]
    if merged != list(current.whitelist):
        _new_settings(app, user, current, whitelist=merged)
        events.record(app, f"{user.username} added {', '.join(addresses)} to the whitelist")
        db.session.commit()
    return merged


def whitelist_remove(app, user, addresses):
    lock(app)
    current = latest(AppSettings, app)
    missing = sorted(set(addresses) - set(current.whitelist))
    if missing:
        raise UnprocessableEntity(f"addresses {{{', '.join(missing)}}} does not exist in whitelist")
    _new_settings(app, user, current, whitelist=[a for a in current.whitelist if a not in addresses])
    events.record(app, f"{user.username} removed {', '.join(addresses)} from the whitelist")
    db.session.commit()


def set_https_enforced(app, user, enforced):
    lock(app)
    if latest(TLS, app).https_enforced == enforced:
        raise Conflict(f"{user.username} changed nothing")
    row = TLS(app=app, owner=user, https_enforced=enforced)
    db.session.add(row)
    events.record(app, f"{user.username} {'enforced' if enforced else 'stopped enforcing'} HTTPS")
    db.session.commit()
    return row
