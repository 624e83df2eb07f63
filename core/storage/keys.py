"""Where a build's files live in object storage."""


def build_prefix(app, sha):
    """Everything stored for one build: its source tarball and, for buildpack apps, its slug."""
    return f"apps/{app}/git-{sha[:8]}"


def source_key(app, sha):
    return f"{build_prefix(app, sha)}/source.tar.gz"


def slug_key(app, sha):
    return f"{build_prefix(app, sha)}/slug.tgz"


def cache_key(app):
    return f"apps/{app}/cache.tar.gz"


def app_prefix(app):
    """Everything stored for one app: its sources, slugs and build cache."""
    return f"apps/{app}"
