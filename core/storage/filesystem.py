"""Object storage in a local directory, for single-host installs and tests.

Every path is walked one segment at a time from a descriptor of the root, with O_NOFOLLOW, so neither a
hostile key nor a symlink planted inside the root can make the store read or write outside it.
"""
import errno
import os
import pathlib
import secrets
import shutil
import stat
import tempfile
from contextlib import contextmanager

from core.storage.base import NotFound, StorageError, Store, check_key, check_prefix

CHUNK = 1024 * 1024
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


@contextmanager
def _translated(what):
    """OSError -> StorageError naming the key; our own errors pass through untouched."""
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StorageError(f"{what}: refusing a symlink inside the storage directory") from exc
        raise StorageError(f"{what}: {exc.strerror or exc}") from exc


def _is_link(name, dir_fd):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _copy(source, target):
    while chunk := source.read(CHUNK):
        target.write(chunk)


class FilesystemStore(Store):
    def __init__(self, root):
        self.root = os.path.abspath(root)
        with _translated(f"storage directory {self.root}"):
            os.makedirs(self.root, mode=0o700, exist_ok=True)

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.storage_path)

    @contextmanager
    def _folder(self, segments, create=False):
        """Yields a descriptor of root/segments..., refusing symlinks; NotFound when a folder is missing."""
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            # A missing root is a broken install, not an empty store: never answer NotFound for it.
            raise StorageError(f"storage directory {self.root}: {exc.strerror}") from exc
        try:
            for segment in segments:
                if create:
                    try:
                        os.mkdir(segment, 0o700, dir_fd=fd)
                    except FileExistsError:
                        pass
                try:
                    child = os.open(segment, DIR_FLAGS, dir_fd=fd)
                except (FileNotFoundError, NotADirectoryError):
                    # Linux answers ENOTDIR, not ELOOP, for a symlink opened with O_DIRECTORY|O_NOFOLLOW.
                    if _is_link(segment, fd):
                        raise StorageError(f"{'/'.join(segments)}: refusing a symlink inside the storage "
                                           "directory") from None
                    raise NotFound(f"{'/'.join(segments)} is not in object storage") from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _write(self, key, fill):
        """Writes through a temporary file renamed over the key, so readers never see half an object."""
        *folders, name = check_key(key).split("/")
        with _translated(key), self._folder(folders, create=True) as fd:
            # '~' cannot occur in a key, so a leftover temporary file is never mistaken for an object.
            temporary = f"{name}~{secrets.token_hex(6)}.tmp"
            file_fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                              dir_fd=fd)
            try:
                with os.fdopen(file_fd, "wb") as target:
                    fill(target)
                    target.flush()
                    os.fsync(target.fileno())
                os.replace(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                os.unlink(temporary, dir_fd=fd)
                raise

    @contextmanager
    def _reading(self, key):
        *folders, name = check_key(key).split("/")
        with _translated(key):
            try:
                with self._folder(folders) as fd:
                    file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
            except (NotFound, FileNotFoundError, NotADirectoryError):
                raise NotFound(f"{key} is not in object storage") from None
            with os.fdopen(file_fd, "rb") as source:
                if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                    raise NotFound(f"{key} is not in object storage")
                yield source

    def put_file(self, key, path):
        with _translated(f"{key}: reading {path}"), open(path, "rb") as source:
            self._write(key, lambda target: _copy(source, target))

    def put_bytes(self, key, data):
        self._write(key, lambda target: target.write(data))

    def get_bytes(self, key):
        with self._reading(key) as source, _translated(key):
            return source.read()

    def get_file(self, key, path):
        with self._reading(key) as source, _translated(f"{key}: writing {path}"):
            folder = os.path.dirname(os.path.abspath(path))
            file_fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.",
                                                  suffix=".part")
            try:
                with os.fdopen(file_fd, "wb") as target:
                    _copy(source, target)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise

    def exists(self, key):
        *folders, name = check_key(key).split("/")
        with _translated(key):
            try:
                with self._folder(folders) as fd:
                    mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            except (NotFound, FileNotFoundError, NotADirectoryError):
                return False
        if stat.S_ISLNK(mode):
            raise StorageError(f"{key}: refusing a symlink inside the storage directory")
        return stat.S_ISREG(mode)

    def delete(self, key):
        *folders, name = check_key(key).split("/")
        with _translated(key):
            try:
                with self._folder(folders) as fd:
                    os.unlink(name, dir_fd=fd)
            except (NotFound, FileNotFoundError, NotADirectoryError, IsADirectoryError):
                pass

    def delete_prefix(self, prefix):
        *folders, name = check_prefix(prefix).split("/")
        with _translated(prefix):
            try:
                with self._folder(folders) as fd:
                    if _is_link(name, fd):
                        raise StorageError(f"{prefix}: refusing a symlink inside the storage directory")
                    # rmtree with dir_fd never follows symlinks out of the tree it removes.
                    shutil.rmtree(name, dir_fd=fd)
            except (NotFound, FileNotFoundError, NotADirectoryError):
                pass

    def list(self, prefix=""):
        return sorted(self.sizes(prefix))

    def sizes(self, prefix=""):
        base = check_prefix(prefix, allow_everything=True)
        folders = base.split("/") if base else []
        found = {}
        with _translated(f"listing {prefix or 'every key'}"):
            try:
                with self._folder(folders) as fd:
                    # fwalk's errors would be swallowed without onerror; a half listing must never pass.
                    for folder, _, names, folder_fd in os.fwalk(".", dir_fd=fd, onerror=_raise):
                        for name in names:
                            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
                            if "~" in name or not stat.S_ISREG(info.st_mode):
                                continue
                            relative = os.path.normpath(os.path.join(folder, name))
                            found["/".join(folders + relative.split(os.sep))] = info.st_size
            except NotFound:
                return {}
        return found

    def url(self, key):
        return pathlib.Path(self.root, *check_key(key).split("/")).as_uri()


def _raise(exc):
    raise exc
