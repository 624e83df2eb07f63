"""Certificates: platform-wide, owned by the uploader, attached to domains by name."""
from flask import g, jsonify
from marshmallow import Schema, fields

from api import certificates, validators
from api.auth import can_use_app
from api.errors import Conflict, Forbidden, ValidationError, not_found
from api.extensions import db
from api.http import created, json_body, load, no_content, paginate
from api.models import Certificate, Domain
from api.schemas.resources import dump_certificate
from api.views import v2


class CertificateSchema(Schema):
    name = fields.String(required=True)
    certificate = fields.String(required=True)
    key = fields.String(required=True)


def _visible(select):
    return select if g.user.is_superuser else select.where(Certificate.owner_id == g.user.id)


def _find(name):
    cert = db.session.execute(_visible(db.select(Certificate).where(Certificate.name == name))).scalar_one_or_none()
    if cert is None:
        raise not_found("Certificate")
    return cert


def _domain_for_user(name):
    try:
        name = validators.hostname(name)
    except ValueError:
        raise not_found("Domain") from None
    domain = db.session.execute(db.select(Domain).where(Domain.domain == name)).scalar_one_or_none()
    if domain is None:
        raise not_found("Domain")
    if not can_use_app(domain.app, g.user):
        raise Forbidden(f"You do not have permission to use the domain {name}.")
    return domain


@v2.route("/certs", methods=["GET"])
def list_certs():
    return paginate(_visible(db.select(Certificate).order_by(Certificate.name)), dump_certificate)


@v2.route("/certs", methods=["POST"])
def add_cert():
    data = load(CertificateSchema())
    errors = {}
    try:
        validators.label_name(data["name"], "certificate name")
    except ValueError as exc:
        errors["name"] = [str(exc)]
    try:
        parsed = certificates.parse(data["certificate"], data["key"])
    except ValueError as exc:
        errors.update({field: [message] for field, message in exc.args[0].items()})
    if errors:
        raise ValidationError(errors)
    if db.session.execute(db.select(Certificate.id).where(Certificate.name == data["name"])).first():
        raise Conflict(f"A certificate named {data['name']} already exists.")
    cert = Certificate(name=data["name"], owner=g.user, certificate=data["certificate"].strip() + "\n",
                       key=data["key"].strip() + "\n", **parsed)
    db.session.add(cert)
    db.session.commit()
    return created(dump_certificate(cert))


@v2.route("/certs/<name>", methods=["GET"])
def cert_info(name):
    return jsonify(dump_certificate(_find(name)))


@v2.route("/certs/<name>", methods=["DELETE"])
def remove_cert(name):
    db.session.delete(_find(name))
    db.session.commit()
    return no_content()


@v2.route("/certs/<name>/domain/", methods=["POST"])
@v2.route("/certs/<name>/domain/<path:domain_name>", methods=["POST"])
def attach_cert(name, domain_name=None):
    cert = _find(name)
    body = json_body()
    domain_name = body.get("domain", domain_name)
    if not isinstance(domain_name, str) or not domain_name:
        raise ValidationError({"domain": ["This field is required."]})
    domain = _domain_for_user(domain_name)
    if domain.certificate_id is not None:
        raise Conflict(f"Domain {domain.domain} already has a certificate attached.")
    domain.certificate = cert
    db.session.commit()
    return created(dump_certificate(cert))


@v2.route("/certs/<name>/domain/<path:domain_name>", methods=["DELETE"])
def detach_cert(name, domain_name):
    cert = _find(name)
    domain = _domain_for_user(domain_name)
    if domain.certificate_id != cert.id:
        raise not_found("Domain")
    domain.certificate = None
    db.session.commit()
    return no_content()
