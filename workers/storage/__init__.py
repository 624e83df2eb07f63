"""Object storage for source tarballs, slugs and build caches; `store_for(settings)` picks the backend."""
from workers.storage.base import NotFound, StorageError, Store, check_key
from workers.storage.filesystem import FilesystemStore
from workers.storage.s3 import S3Store

# PIER_STORAGE -> class; each class builds itself from the settings it needs.
STORES = {"filesystem": FilesystemStore, "s3": S3Store}


def store_for(settings):
    cls = STORES.get(settings.storage)
    if cls is None:
        raise StorageError(f"PIER_STORAGE is {settings.storage!r}; it must be one of {', '.join(sorted(STORES))}")
    return cls.from_settings(settings)


__all__ = ["STORES", "FilesystemStore", "NotFound", "S3Store", "StorageError", "Store", "check_key", "store_for"]
