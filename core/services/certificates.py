"""Certificates: platform-wide, owned by the uploader, attached to domains by name."""
from core import certificates, validators
from core.errors import Conflict, ValidationError
from core.extensions import db
from core.models import Certificate
from core.services import events

# Names of the platform's own certificate files. Tenants' files live in a folder of their own anyway; the
# names are refused too, so that no name ever reads as the platform's.
RESERVED_NAMES = frozenset({"default"})


def add(user, name, certificate, key):
    errors = {}
    try:
        validators.label_name(name, "certificate name")
        if name in RESERVED_NAMES:
            raise ValueError(f"The name {name} is reserved for the platform's own certificate; choose another.")
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
    # checked again: a certificate stored before uploads were checked, or expired since, must not reach nginx
    problems = certificates.problems(cert.certificate, cert.key)
    if problems:
        raise ValidationError({"certificate": [f"Certificate {cert.name} cannot be attached: {message}"
                                               for message in problems.values()]})
    domain.certificate = cert
    db.session.commit()


def detach(domain):
    domain.certificate = None
    db.session.commit()


def record_router_problems(problems):
    """The router's verdicts, {certificate name: why nginx refused it, or None once it serves it}. Each change
    is kept on the certificate (certs:info shows it) and told on the log of every app whose domains carry it."""
    rows = db.session.execute(db.select(Certificate).where(Certificate.name.in_(list(problems)))).scalars()
    for cert in rows:
        problem = problems[cert.name]
        if cert.problem == problem:
            continue
        hosts = {}
        for domain in cert.domains:
            hosts.setdefault(domain.app, []).append(domain.domain)
        for app, names in hosts.items():
            names = ", ".join(sorted(names))
            events.record(app, f"router: left out {names}: nginx refused certificate {cert.name}. {problem} "
                               "Detach it (certs:detach) to serve these domains with the platform's certificate, "
                               "or attach one nginx takes."
                          if problem else f"router: {names} served again with certificate {cert.name}")
        cert.problem = problem
    db.session.commit()
