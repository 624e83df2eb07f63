"""Where a build's files live in object storage."""


def source_key(app, sha):
    return f"apps/{app}/git-{sha[:8]}/source.tar.gz"


def slug_key(app, sha):
    return f"apps/{app}/git-{sha[:8]}/slug.tgz"


def cache_key(app):
    return f"apps/{app}/cache.tar.gz"


def app_prefix(app):
    """Everything stored for one app: its sources, slugs and build cache."""
    return f"apps/{app}"
