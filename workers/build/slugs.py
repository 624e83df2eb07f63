"""A buildpack build's slug (Deis's slug.tgz), packed without compressing unchanged dependencies again.

A slug is two gzip members in one file: the dependency folders (.venv, node_modules...) as tar entries without
the end-of-archive, then the rest of the slug as a whole tarball; gzip and tar readers see one tarball. The
first member is kept on this machine by the dependencies' fingerprint (the dependency layer's, see
buildpack.fingerprint), so a build whose dependencies did not change compresses only the application's files.
Parts unused for PART_DAYS are removed when a new one is made.
"""
import os
import shutil
import time
from pathlib import Path

from workers import safe_tar

PARTS = ".slug-parts"  # in the build cache's folder
PART_DAYS = 7
LEVEL = 6  # gzip's own default: most of level 9's ratio in half its time


def pack(cache_root, slug_dir, target, dependencies, key):
    """Writes slug.tgz of `slug_dir` at `target`; `dependencies` are its top-level dependency folders, `key`
    their fingerprint (no reuse without one). Returns whether the dependencies' part was reused."""
    reused = False
    with safe_tar.written(target) as out:
        if dependencies and key:
            part, reused = dependencies_part(Path(cache_root) / PARTS, slug_dir, dependencies, key)
            with open(part, "rb") as kept:
                shutil.copyfileobj(kept, out, 1 << 20)
        safe_tar.pack(slug_dir, out, only=lambda name: name not in dependencies, level=LEVEL)
    return reused


def dependencies_part(folder, slug_dir, dependencies, key):
    """The kept part of these dependencies, made now if there is none; returns (path, whether it was kept)."""
    part = folder / f"{key}.tgz"
    try:
        os.utime(part)  # used now: kept for PART_DAYS more
        return part, True
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    safe_tar.pack(slug_dir, part, only=lambda name: name in dependencies, end=False, level=LEVEL)
    forget_old(folder)
    return part, False


def forget_old(folder, days=PART_DAYS):
    oldest = time.time() - days * 86400
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < oldest:
                entry.unlink()
        except FileNotFoundError:
            pass
