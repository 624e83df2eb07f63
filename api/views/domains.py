from flask import current_app, g
from marshmallow import Schema, fields

from api import validators
from api.auth import app_for_request
from api.errors import Conflict, ValidationError, not_found
from api.extensions import db
from api.http import created, load, no_content, paginate
from api.models import Domain
from api.schemas.resources import dump_domain
from api.views import v2


class DomainSchema(Schema):
    domain = fields.String(required=True)


def clean_domain(app, text):
    try:
        name = validators.hostname(text)
    except ValueError as exc:
        raise ValidationError({"domain": [str(exc)]}) from None
    platform = current_app.config["PIER"].domain
    if name.endswith("." + platform) and name != f"{app.id}.{platform}":
        raise ValidationError({"domain": [f"Names under {platform} belong to the platform's apps; "
                                          f"this app's is {app.id}.{platform}."]})
    if "." not in name and name != app.id:
        raise ValidationError({"domain": ["A custom domain needs at least one dot, e.g. www.example.com."]})
    return name


@v2.route("/apps/<app_id>/domains", methods=["GET"])
def list_domains(app_id):
    app = app_for_request(app_id)
    return paginate(db.select(Domain).where(Domain.app_uuid == app.uuid).order_by(Domain.domain), dump_domain)


@v2.route("/apps/<app_id>/domains", methods=["POST"])
def add_domain(app_id):
    app = app_for_request(app_id)
    name = clean_domain(app, load(DomainSchema())["domain"])
    if db.session.execute(db.select(Domain.uuid).where(Domain.domain == name)).first():
        raise Conflict(f"Domain {name} is already in use.")
    domain = Domain(app=app, owner=g.user, domain=name)
    db.session.add(domain)
    db.session.commit()
    return created(dump_domain(domain))


@v2.route("/apps/<app_id>/domains/<path:name>", methods=["DELETE"])
def remove_domain(app_id, name):
    app = app_for_request(app_id)
    try:
        name = validators.hostname(name)
    except ValueError:
        raise not_found("Domain") from None
    domain = db.session.execute(
        db.select(Domain).where(Domain.app_uuid == app.uuid, Domain.domain == name)).scalar_one_or_none()
    if domain is None:
        raise not_found("Domain")
    db.session.delete(domain)
    db.session.commit()
    return no_content()
