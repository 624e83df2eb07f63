"""Certificates: platform-wide, owned by the uploader, attached to domains by name."""
from core import certificates, validators
from core.errors import Conflict, ValidationError
from core.extensions import db
from core.models import Certificate


def add(user, name, certificate, key):
    errors = {}
    try:
        validators.label_name(name, "certificate name")
    except ValueError as exc:
        errors["name"] = [str(exc)]
    try:
        parsed = certificates.parse(certificate, key)
    except ValueError as exc:
        errors.update({field: [message] for field, message in exc.args[0].items()})
    if errors:
        raise ValidationError(errors)
    if db.session.execute(db.select(Certificate.id).where(Certificate.name == name)).first():
        raise Conflict(f"A certificate named {name} already exists.")
    cert = Certificate(name=name, owner=user, certificate=certificate.strip() + "\n", key=key.strip() + "\n",
                       **parsed)
    db.session.add(cert)
    db.session.commit()
    return cert


def remove(cert):
    db.session.delete(cert)
    db.session.commit()


def attach(cert, domain):
    if domain.certificate_id is not None:
        raise Conflict(f"Domain {domain.domain} already has a certificate attached.")
    domain.certificate = cert
    db.session.commit()


def detach(domain):
    domain.certificate = None
    db.session.commit()
