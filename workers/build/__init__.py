"""Builds: a pushed source tarball becomes an image in Pier's registry (Dockerfile or buildpack)."""


class BuildFailed(Exception):
    """The build cannot go on; the text is the last thing the user reads in their `git push` output."""
