"""Certificates written straight into the database, past the upload check: as if stored by an older Pier that
did not check them, or by a bug. The router must stand them."""
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from core.extensions import db
from core.models import Certificate, Domain, User


def plant_certificate(flask_app, owner, name, cert_text, key_text, domain=None):
    """Stores the pair as `owner`'s certificate `name`, attached to `domain` (an existing domain) when given."""
    cert = x509.load_pem_x509_certificate(cert_text.encode())
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    with flask_app.app_context():
        user = db.session.execute(db.select(User).where(User.username == owner)).scalar_one()
        row = Certificate(name=name, owner=user, certificate=cert_text, key=key_text, common_name=name, san=[],
                          fingerprint=":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
                          issuer="/CN=planted", subject="/CN=planted", starts=cert.not_valid_before_utc,
                          expires=cert.not_valid_after_utc)
        db.session.add(row)
        if domain is not None:
            db.session.execute(db.select(Domain).where(Domain.domain == domain)).scalar_one().certificate = row
        db.session.commit()
        db.session.remove()
