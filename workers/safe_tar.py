"""Tarballs Pier did not write itself are hostile: user source tarballs, slugs, build caches.

`extract` refuses anything that could write outside the destination, create devices or setuid programs,
or exhaust the disk or memory. Python's own `filter="data"` runs on every member too, as a second layer
under our checks rather than instead of them. `pack` writes the tarballs Pier stores.
"""
import gzip
import lzma
import os
import shutil
import tarfile
import tempfile
import zlib
from contextlib import contextmanager

# pax and GNU long-name headers are read into memory whole, before any member is seen.
MAX_HEADER_BYTES = 1024 * 1024
HEADER_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
                tarfile.GNUTYPE_LONGLINK)


class UnsafeArchive(Exception):
    """The tarball is refused: hostile, too big, or not a readable tarball. The text names the member."""


class _BoundedTarInfo(tarfile.TarInfo):
    # _proc_member is tarfile's private hook for every header; it is the one place to refuse a huge
    # pax header before tarfile reads it into memory.
    def _proc_member(self, tarfile):
        if self.type in HEADER_TYPES and self.size > MAX_HEADER_BYTES:
            raise UnsafeArchive(f"an extended header of {self.size} bytes is over {MAX_HEADER_BYTES}")
        return super()._proc_member(tarfile)


def _inside(path, root):
    return path == root or path.startswith(root + os.sep)


def _parts(name):
    return [part for part in name.split("/") if part not in ("", ".")]


def _filter(member, root):
    member = tarfile.data_filter(member, root)
    if member.mode is not None and member.mode & 0o7000:
        member = member.replace(mode=member.mode & 0o777, deep=False)  # never setuid, setgid or sticky
    return member


def _check(member, root, files):
    """Returns the member's clean relative name, None for the archive's own `./`, or raises."""
    name = member.name
    if name.startswith("/"):
        raise UnsafeArchive(f"{name}: absolute paths are refused")
    parts = _parts(name)
    if ".." in parts:
        raise UnsafeArchive(f"{name}: '..' in a path is refused")
    if not parts:
        if member.isdir():
            return None
        raise UnsafeArchive(f"{name!r}: a member without a name is refused")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchive(f"{name}: devices, fifos and other special files are refused")
    target = os.path.join(root, *parts)
    # realpath follows the symlinks earlier members created, so this catches writing through one.
    if not _inside(os.path.realpath(os.path.dirname(target)), root):
        raise UnsafeArchive(f"{name}: would land outside the destination")
    if member.issym():
        if member.linkname.startswith("/"):
            raise UnsafeArchive(f"{name}: symlink to the absolute path {member.linkname} is refused")
        if not _inside(os.path.realpath(os.path.join(os.path.dirname(target), member.linkname)), root):
            raise UnsafeArchive(f"{name}: symlink to {member.linkname} points outside the destination")
    if member.islnk():
        link = member.linkname
        if link.startswith("/") or ".." in _parts(link) or "/".join(_parts(link)) not in files:
            raise UnsafeArchive(f"{name}: hardlink to {link}, which is not an earlier file in the archive")
    return "/".join(parts)


def extract(source, dest, max_bytes=2 * 1024**3, max_members=200_000):
    """Extracts a gzip, bzip2, xz or plain tarball (a path or a readable binary file object, read once as a
    stream) into `dest`; raises UnsafeArchive when it is refused.

    Files are owned by the caller, with mode bits kept except setuid, setgid, sticky and group/other
    write. On any failure, a `dest` that extract created is removed whole; a `dest` that already existed
    may keep the members extracted before the failure, so extract into a fresh directory when that matters.
    """
    dest = os.path.abspath(dest)
    created = not os.path.lexists(dest)
    os.makedirs(dest, exist_ok=True)
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as fileobj:
                _extract(fileobj, os.path.realpath(dest), max_bytes, max_members)
        else:
            _extract(source, os.path.realpath(dest), max_bytes, max_members)
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        raise


def _extract(fileobj, root, max_bytes, max_members):
    files = set()  # regular files extracted so far: the only targets a hardlink may have
    links = []
    total = 0
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*", tarinfo=_BoundedTarInfo, errorlevel=1) as tar:
            for count, member in enumerate(tar, 1):
                if count > max_members:
                    raise UnsafeArchive(f"{member.name}: the archive has more than {max_members} members")
                total += max(member.size, 0)
                if total > max_bytes:
                    raise UnsafeArchive(f"{member.name}: the archive unpacks to more than {max_bytes} bytes")
                name = _check(member, root, files)
                if name is None:
                    continue
                target = os.path.join(root, name)
                if not member.isdir() and os.path.islink(target):
                    os.unlink(target)  # a later member replaces a link; it must never write through it
                tar.extract(member, root, set_attrs=True, filter=_filter)
                if member.isreg() or member.islnk():
                    files.add(name)
                else:
                    files.discard(name)
                if member.issym():
                    links.append((member.name, target))
    except tarfile.FilterError as exc:
        raise UnsafeArchive(str(exc)) from exc
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise UnsafeArchive(f"not a readable tarball: {exc}") from exc
    # A symlink that was safe when made can point outside once a later member replaces a folder it
    # goes through with another link (a -> b/.., then b -> .); look at every link again, as it is now.
    for name, target in links:
        if os.path.islink(target) and not _inside(os.path.realpath(target), root):
            raise UnsafeArchive(f"{name}: symlink points outside the destination")


def pack(directory, fileobj_or_path, prefix="", uid=None, gid=None, only=None, end=True, level=9):
    """Writes a gzip tarball of `directory`'s contents: names relative to it (under `prefix/` when given),
    sorted, symlinks stored as links, every owner set to uid/gid when given. Sockets, fifos and devices
    are left out. A path is written through a temporary file, so it appears whole or not at all.
    `only(name)` picks the top-level entries packed. end=False leaves the tar's end-of-archive out: gzip
    members follow one another in a file, so such a part followed by a whole tarball reads as one tarball
    holding both (how a slug reuses its compressed dependencies, see workers/build/slugs.py)."""
    directory = os.path.abspath(directory)
    prefix = prefix.strip("/")
    if prefix.startswith("/") or ".." in prefix.split("/"):
        raise ValueError(f"prefix {prefix!r} must be a relative path without '..'")
    options = dict(uid=uid, gid=gid, only=only, end=end, level=level)
    if not isinstance(fileobj_or_path, (str, os.PathLike)):
        _pack(directory, fileobj_or_path, prefix, **options)
        return
    with written(fileobj_or_path) as fileobj:
        _pack(directory, fileobj, prefix, **options)


@contextmanager
def written(path):
    """A file to write `path` through: a temporary file beside it, renamed over it once whole, removed if the
    writing fails."""
    path = os.fspath(path)
    file_fd, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                          prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(file_fd, "wb") as fileobj:
            yield fileobj
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _entries(directory, prefix, only=None):
    """(path, name in the archive), parents before children, in sorted order; at the top, only the names
    `only` accepts."""
    if prefix:
        yield directory, prefix
    # os.walk would skip unreadable folders silently; a tarball missing files must fail instead.
    for folder, dirnames, filenames in os.walk(directory, onerror=_raise):
        if only is not None and folder == directory:
            dirnames[:] = [name for name in dirnames if only(name)]
            filenames = [name for name in filenames if only(name)]
        dirnames.sort()  # symlinked folders are listed here but never walked into
        relative = os.path.relpath(folder, directory)
        for name in sorted(dirnames + filenames):
            arcname = "/".join(part for part in (prefix, relative, name) if part and part != ".")
            yield os.path.join(folder, name), arcname


class _Until:
    """Passes writes on until closed; then drops them (the tar's end-of-archive, for a part)."""

    def __init__(self, fileobj):
        self.fileobj, self.open, self.written = fileobj, True, 0

    def write(self, data):
        if self.open:
            self.fileobj.write(data)
        self.written += len(data)
        return len(data)

    def tell(self):
        return self.written


def _pack(directory, fileobj, prefix, uid, gid, only, end, level):
    # mtime=0 and no file name in the gzip header: the same tree packs to the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=fileobj, mtime=0, compresslevel=level) as gz:
        target = _Until(gz)
        with tarfile.open(fileobj=target, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add_all(tar, directory, prefix, uid, gid, only)
            target.open = end  # members are written as they are added; only the end is left to write


def _add_all(tar, directory, prefix, uid, gid, only):
    for path, arcname in _entries(directory, prefix, only):
        info = tar.gettarinfo(path, arcname)
        if info is None or not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
            continue
        if uid is not None:
            info.uid, info.uname = uid, ""
        if gid is not None:
            info.gid, info.gname = gid, ""
        if info.isreg():
            with open(path, "rb") as content:
                tar.addfile(info, content)
        else:
            tar.addfile(info)


def _raise(exc):
    raise exc
