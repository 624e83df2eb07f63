import os
import stat

import pytest

from core.storage import FilesystemStore, NotFound, StorageError, filesystem

KEY = "apps/web/git-1a2b3c4d/source.tar.gz"


@pytest.fixture
def store(tmp_path):
    return FilesystemStore(tmp_path / "objects")


def test_bytes_and_files_round_trip_with_private_modes(store, tmp_path):
    store.put_bytes(KEY, b"tarball")
    assert store.get_bytes(KEY) == b"tarball"
    local = tmp_path / "upload.bin"
    local.write_bytes(os.urandom(3 * filesystem.CHUNK + 7))
    store.put_file("apps/web/slug.tgz", local)
    store.get_file("apps/web/slug.tgz", tmp_path / "download.bin")
    assert (tmp_path / "download.bin").read_bytes() == local.read_bytes()
    on_disk = tmp_path / "objects" / "apps" / "web"
    assert stat.S_IMODE(os.stat(on_disk / "slug.tgz").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(on_disk).st_mode) == 0o700


def test_a_put_replaces_the_object(store):
    store.put_bytes(KEY, b"one")
    store.put_bytes(KEY, b"two")
    assert store.get_bytes(KEY) == b"two"
    assert store.list("apps") == [KEY], "no temporary file is left behind"


def test_a_missing_key_is_not_found(store, tmp_path):
    with pytest.raises(NotFound, match=f"^{KEY} is not in object storage$"):
        store.get_bytes(KEY)
    with pytest.raises(NotFound):
        store.get_file(KEY, tmp_path / "out")
    assert os.listdir(tmp_path) == ["objects"], "no partial or temporary file"
    assert store.exists(KEY) is False
    store.put_bytes(KEY, b"x")
    assert store.exists(KEY) is True
    assert store.exists("apps/web") is False, "a folder is not an object"


def test_a_failed_download_leaves_no_partial_file(store, tmp_path, monkeypatch):
    store.put_bytes(KEY, b"x" * 100)

    def broken_copy(source, target):
        target.write(source.read(10))
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(filesystem, "_copy", broken_copy)
    with pytest.raises(StorageError, match="Input/output error"):
        store.get_file(KEY, tmp_path / "out")
    assert os.listdir(tmp_path) == ["objects"]


def test_list_is_sorted_and_a_prefix_is_a_folder(store):
    for key in ("apps/web2/b", "apps/web/z", "apps/web/a/deep", "apps/web/m", "other"):
        store.put_bytes(key, b"")
    assert store.list("apps/web") == ["apps/web/a/deep", "apps/web/m", "apps/web/z"]
    assert store.list("apps/web/") == store.list("apps/web")
    assert store.list("") == ["apps/web/a/deep", "apps/web/m", "apps/web/z", "apps/web2/b", "other"]
    assert store.list("apps/nothing") == []
    assert store.list("other") == [], "a key is not a folder"


def test_delete_and_delete_prefix(store):
    for key in ("apps/web/a", "apps/web/b/c", "apps/web2/a"):
        store.put_bytes(key, b"")
    store.delete("apps/web/a")
    store.delete("apps/web/a")
    store.delete("apps/never/was")
    assert store.list("apps/web") == ["apps/web/b/c"]
    store.delete_prefix("apps/web/")
    store.delete_prefix("apps/web/")
    assert store.list("") == ["apps/web2/a"]
    with pytest.raises(StorageError, match="every object"):
        store.delete_prefix("")


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "apps//x", "apps/./x", "a b"])
def test_bad_keys_are_refused_by_every_method(store, tmp_path, key):
    calls = [lambda: store.put_bytes(key, b""), lambda: store.get_bytes(key), lambda: store.exists(key),
             lambda: store.delete(key), lambda: store.get_file(key, tmp_path / "out"), lambda: store.url(key)]
    for call in calls:
        with pytest.raises(StorageError):
            call()
    assert not (tmp_path / "escape").exists()


def test_url_is_an_absolute_file_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = FilesystemStore("relative/objects")
    assert store.root == str(tmp_path / "relative" / "objects")
    assert store.url("apps/web/slug.tgz") == f"file://{tmp_path}/relative/objects/apps/web/slug.tgz"


def test_symlinks_planted_inside_the_root_are_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    os.symlink(outside, tmp_path / "objects" / "apps")
    os.symlink(outside / "secret", tmp_path / "objects" / "leaf")
    with pytest.raises(StorageError, match="symlink"):
        store.put_bytes("apps/planted", b"x")
    with pytest.raises(StorageError, match="symlink"):
        store.get_bytes("apps/secret")
    with pytest.raises(StorageError, match="symlink"):
        store.get_bytes("leaf")
    with pytest.raises(StorageError, match="symlink"):
        store.exists("leaf")
    with pytest.raises(StorageError, match="symlink"):
        store.delete_prefix("apps")
    with pytest.raises(StorageError, match="symlink"):
        store.list("apps")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert store.list("") == [], "a symlink is not an object"


def test_listing_a_vanished_root_is_an_error_not_an_empty_list(store, tmp_path):
    os.rmdir(tmp_path / "objects")
    with pytest.raises(StorageError, match="storage directory"):
        store.list("")
    with pytest.raises(StorageError, match="storage directory"):
        store.get_bytes(KEY)
