"""Domains an app answers on, besides <app>.<PIER_DOMAIN>."""
from flask import current_app
from publicsuffixlist import PublicSuffixList

from core import validators
from core.errors import Conflict, ValidationError
from core.extensions import db
from core.models import Domain

PUBLIC_SUFFIXES = PublicSuffixList()  # the Public Suffix List the package ships (no download)


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
    bare = name[2:] if name.startswith("*.") else name
    if bare == "localhost" or bare.endswith(".localhost") and not name.endswith("." + platform):
        raise ValidationError({"domain": ["localhost names belong to the machine, not to an app."]})
    if PUBLIC_SUFFIXES.is_public(bare):
        raise ValidationError({"domain": [f"{bare} is a public suffix (like com or co.uk): nobody's app may take "
                                          f"{'every name under it' if name != bare else 'it'}."]})
    return name


def add(app, user, text):
    name = clean_domain(app, text)
    if db.session.execute(db.select(Domain.uuid).where(Domain.domain == name)).first():
        raise Conflict(f"Domain {name} is already in use.")
    domain = Domain(app=app, owner=user, domain=name)
    db.session.add(domain)
    db.session.commit()
    return domain


def remove(domain):
    db.session.delete(domain)
    db.session.commit()
