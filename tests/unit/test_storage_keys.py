from types import SimpleNamespace

import pytest

from core.storage import FilesystemStore, S3Store, StorageError, store_for
from core.storage.base import MAX_KEY_LENGTH, check_key, check_prefix
from tests.conftest import settings_for_tests


@pytest.mark.parametrize("key", [
    "apps/myapp/git-1a2b3c4d/source.tar.gz",
    "slug.tgz",
    "apps/web/v2/slug@sha256:abc+x=y",
    ".hidden/..dots.../file",
    "a" * MAX_KEY_LENGTH,
])
def test_good_keys_pass(key):
    assert check_key(key) == key


@pytest.mark.parametrize("key, complaint", [
    ("", "empty"),
    ("/etc/passwd", "relative"),
    ("apps//web", "empty segment"),
    ("apps/web/", "empty segment"),
    ("apps/../etc", "'..'"),
    ("..", "'..'"),
    ("apps/./web", "'.'"),
    ("apps/we\0b", "NUL"),
    ("apps/web app", "letters, digits"),
    ("apps\\web", "letters, digits"),
    ("apps/~tmp", "letters, digits"),
    ("apps/wéb", "letters, digits"),
    ("a" * (MAX_KEY_LENGTH + 1), "longer than"),
    (None, "string"),
])
def test_bad_keys_are_refused_with_a_reason(key, complaint):
    with pytest.raises(StorageError, match=complaint):
        check_key(key)


def test_a_prefix_is_a_folder_with_or_without_its_slash():
    assert check_prefix("apps/web/") == "apps/web"
    assert check_prefix("apps/web") == "apps/web"
    assert check_prefix("", allow_everything=True) == ""


def test_the_empty_prefix_is_refused_unless_every_key_is_meant():
    for prefix in ("", "/"):
        with pytest.raises(StorageError, match="every object"):
            check_prefix(prefix)


@pytest.mark.parametrize("prefix", ["../", "apps//", "/apps", "apps/../x/"])
def test_bad_prefixes_are_refused(prefix):
    with pytest.raises(StorageError):
        check_prefix(prefix, allow_everything=True)


def test_store_for_builds_the_filesystem_store_from_settings(tmp_path):
    store = store_for(settings_for_tests(storage="filesystem", storage_path=str(tmp_path / "objects")))
    assert isinstance(store, FilesystemStore)
    assert store.root == str(tmp_path / "objects")


def test_store_for_builds_the_s3_store_from_settings():
    settings = settings_for_tests(storage="s3", s3_endpoint="http://minio.internal:9000", s3_region="eu-west-1",
                                  s3_bucket="slugs", s3_access_key="AKIA", s3_secret_key="s3cr3t",
                                  s3_path_style=True)
    store = store_for(settings)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.endpoint, store.region, store.path_style) == (
        "slugs", "http://minio.internal:9000", "eu-west-1", True)
    assert store.client.meta.config.s3 == {"addressing_style": "path"}
    assert store.url("apps/web/slug.tgz") == "http://minio.internal:9000/slugs/apps/web/slug.tgz"


def test_store_for_on_aws_uses_virtual_hosted_urls():
    store = store_for(settings_for_tests(storage="s3", s3_bucket="pier-slugs", s3_region="eu-west-1"))
    assert store.url("apps/web/slug.tgz") == "https://pier-slugs.s3.eu-west-1.amazonaws.com/apps/web/slug.tgz"


def test_store_for_refuses_an_unknown_backend():
    # Settings.check() refuses it at start-up already; store_for must not guess either.
    with pytest.raises(StorageError, match="'ftp'; it must be one of filesystem, s3"):
        store_for(SimpleNamespace(storage="ftp"))
