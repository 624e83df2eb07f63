"""Object storage for source tarballs, slugs and build caches; `store_for(settings)` picks the backend."""
import importlib

from core.storage.base import NotFound, StorageError, Store, check_key
from core.storage.filesystem import FilesystemStore

# PIER_STORAGE -> "module:class", imported when chosen (boto3 is slow to import, and the git hook that
# stores each push on the local folder starts on every push); each class builds itself from the settings.
STORES = {"filesystem": "core.storage.filesystem:FilesystemStore", "s3": "core.storage.s3:S3Store"}


def _load(path):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def store_for(settings):
    path = STORES.get(settings.storage)
    if path is None:
        raise StorageError(f"PIER_STORAGE is {settings.storage!r}; it must be one of {', '.join(sorted(STORES))}")
    return _load(path).from_settings(settings)


def __getattr__(name):
    if name == "S3Store":
        return _load(STORES["s3"])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["STORES", "FilesystemStore", "NotFound", "S3Store", "StorageError", "Store", "check_key", "store_for"]
