"""What Pier asks of object storage: source tarballs, slugs, build caches, WAL and base backups by key.

Implementations: a directory on the local disk (`FilesystemStore`) and any S3 API (`S3Store`: AWS, MinIO,
Ceph). Both pass the same contract tests, so a runner never needs to know which one it was given.
"""
import re

MAX_KEY_LENGTH = 1024
SEGMENT = re.compile(r"[A-Za-z0-9._:@+=-]+")


class StorageError(Exception):
    """Object storage failed or refused; the text names the key and the cause, never a credential."""


class NotFound(StorageError):
    """The key is not in object storage."""


def check_key(key):
    """Returns `key` when it is a safe object key (like `apps/web/git-1a2b3c4d/source.tar.gz`).

    Keys become file paths in the filesystem store, so the rules are a filesystem's: relative,
    `/`-separated segments of letters, digits and `._:@+=-`, none of them empty, `.` or `..`.
    """
    if not isinstance(key, str):
        raise StorageError(f"object key must be a string, not {type(key).__name__}")
    if not key:
        raise StorageError("object key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise StorageError(f"object key is longer than {MAX_KEY_LENGTH} characters: {key[:60]!r}...")
    if "\0" in key:
        raise StorageError(f"object key contains a NUL byte: {key!r}")
    if key.startswith("/"):
        raise StorageError(f"object key must be relative, not start with '/': {key!r}")
    for segment in key.split("/"):
        if not segment:
            raise StorageError(f"object key has an empty segment ('//' or a trailing '/'): {key!r}")
        if segment in (".", ".."):
            raise StorageError(f"object key has a '{segment}' segment: {key!r}")
        if not SEGMENT.fullmatch(segment):
            raise StorageError(f"object key segment {segment!r} may only hold letters, digits and ._:@+=-")
    return key


def check_prefix(prefix, allow_everything=False):
    """Returns the prefix as a key without its trailing `/`, or "" for "every key" when allowed.

    A prefix names a folder, not the start of a string: `apps/web` covers `apps/web/...` but not
    `apps/web2/...`, so deleting one app's objects can never touch another app whose name starts the same.
    """
    if prefix in ("", "/"):
        if allow_everything:
            return ""
        raise StorageError("refusing an empty prefix: it would cover every object in storage")
    return check_key(prefix[:-1] if prefix.endswith("/") else prefix)


class Store:
    """Objects by key. Every method raises `StorageError` (or its subclass `NotFound`) and nothing else
    from the backend; a failure to list or read is always an error, never an empty answer."""

    @classmethod
    def from_settings(cls, settings):
        raise NotImplementedError

    def put_file(self, key, path):
        """Uploads the local file at `path`, streamed (never read into memory whole). The object appears
        whole or not at all; an existing object is replaced."""
        raise NotImplementedError

    def get_file(self, key, path):
        """Downloads to the local `path` through a temporary file beside it, renamed into place once
        complete, so a failed download leaves no partial file. Raises NotFound when the key is missing."""
        raise NotImplementedError

    def put_bytes(self, key, data):
        raise NotImplementedError

    def get_bytes(self, key):
        """Returns the object's content; raises NotFound when the key is missing."""
        raise NotImplementedError

    def exists(self, key):
        raise NotImplementedError

    def delete(self, key):
        """Deletes the object; succeeds when it is already gone."""
        raise NotImplementedError

    def delete_prefix(self, prefix):
        """Deletes every object beneath the folder `prefix` (see `check_prefix`); "" is refused."""
        raise NotImplementedError

    def list(self, prefix=""):
        """Returns the sorted keys beneath the folder `prefix`; "" lists every key."""
        raise NotImplementedError

    def sizes(self, prefix=""):
        """Returns {key: bytes} for the keys beneath the folder `prefix`, as `list` finds them."""
        raise NotImplementedError

    def url(self, key):
        """Returns an absolute URL for the object: `file:///...` or the S3 endpoint's URL of it."""
        raise NotImplementedError
