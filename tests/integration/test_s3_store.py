"""S3Store against moto's standalone S3 server (a real HTTP server in a subprocess), and the contract
both stores must keep so that a runner never notices which one it was given."""
import hashlib
import os
import traceback
import urllib.request
import uuid

import pytest

from core.storage import FilesystemStore, NotFound, S3Store, StorageError
from tests.support.s3 import free_port, s3_endpoint  # noqa: F401 - fixture

SECRET = "pier-test-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def s3_store(endpoint, **options):
    options.setdefault("bucket", f"pier-{uuid.uuid4().hex[:12]}")
    return S3Store(endpoint=endpoint, access_key="AKIAPIERTEST", secret_key=SECRET, path_style=True, **options)


def bucket_names(store):
    return [bucket["Name"] for bucket in store.client.list_buckets()["Buckets"]]


def test_the_bucket_is_created_before_the_first_write(s3_endpoint):
    store = s3_store(s3_endpoint)
    assert store.bucket not in bucket_names(store)
    store.put_bytes("a", b"1")
    assert store.bucket in bucket_names(store)
    assert s3_store(s3_endpoint, bucket=store.bucket).exists("a"), "an existing bucket is reused"


def test_a_bucket_outside_us_east_1_gets_its_location(s3_endpoint):
    store = s3_store(s3_endpoint, region="eu-west-1")
    store.put_bytes("a", b"1")
    assert store.client.get_bucket_location(Bucket=store.bucket)["LocationConstraint"] == "eu-west-1"
    store._create_bucket()  # another worker won the race: BucketAlreadyOwnedByYou is not an error


def test_a_20_mib_file_round_trips_in_parts(s3_endpoint, tmp_path):
    store = s3_store(s3_endpoint)
    local = tmp_path / "slug.tgz"
    local.write_bytes(os.urandom(20 * 1024 * 1024))
    store.put_file("apps/web/slug.tgz", local)
    etag = store.client.head_object(Bucket=store.bucket, Key="apps/web/slug.tgz")["ETag"]
    assert etag.strip('"').endswith("-3"), f"expected a 3-part multipart upload, got ETag {etag}"
    store.get_file("apps/web/slug.tgz", tmp_path / "back.tgz")
    digest = hashlib.sha256(local.read_bytes()).hexdigest()
    assert hashlib.sha256((tmp_path / "back.tgz").read_bytes()).hexdigest() == digest
    assert sorted(os.listdir(tmp_path)) == ["back.tgz", "slug.tgz"], "no temporary file is left"


def test_path_style_requests_and_urls(s3_endpoint):
    store = s3_store(s3_endpoint)
    sent = []
    store.client.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.url))
    store.put_bytes("apps/web/Procfile", b"web: run")
    assert sent and all(url.startswith(f"{s3_endpoint}/{store.bucket}") for url in sent)
    url = store.url("apps/web/Procfile")
    assert url == f"{s3_endpoint}/{store.bucket}/apps/web/Procfile"
    signed = store.client.generate_presigned_url(
        "get_object", Params={"Bucket": store.bucket, "Key": "apps/web/Procfile"})
    assert signed.split("?")[0] == url, "url() names the object the way botocore addresses it"
    with urllib.request.urlopen(signed) as answer:
        assert answer.read() == b"web: run"


def test_a_closed_port_is_an_error_naming_the_endpoint_never_an_empty_list(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    store = s3_store(endpoint, bucket="pier-nowhere", max_attempts=1)
    calls = [lambda: store.list("apps/web"), lambda: store.get_bytes("a"), lambda: store.exists("a"),
             lambda: store.put_bytes("a", b"1"), lambda: store.get_file("a", tmp_path / "out"),
             lambda: store.delete_prefix("apps")]
    for call in calls:
        with pytest.raises(StorageError) as caught:
            call()
        assert not isinstance(caught.value, NotFound)
        assert endpoint in str(caught.value) and "pier-nowhere" in str(caught.value)
        everything = "".join(traceback.format_exception(caught.value))
        assert SECRET not in everything and SECRET not in repr(caught.value)
    assert os.listdir(tmp_path) == []


def test_a_missing_bucket_is_an_error_when_listing(s3_endpoint):
    store = s3_store(s3_endpoint)
    with pytest.raises(StorageError, match="NoSuchBucket") as caught:
        store.list("")
    assert not isinstance(caught.value, NotFound)


# The contract: both stores, the same behaviour.

@pytest.fixture(params=["filesystem", "s3"])
def store(request, tmp_path):
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "objects")
    return s3_store(request.getfixturevalue("s3_endpoint"))


def test_contract_round_trip(store, tmp_path):
    store.put_bytes("apps/web/a.txt", b"hello")
    assert store.get_bytes("apps/web/a.txt") == b"hello"
    store.put_bytes("apps/web/a.txt", b"again")
    assert store.get_bytes("apps/web/a.txt") == b"again"
    (tmp_path / "in").write_bytes(b"file body")
    store.put_file("apps/web/b.bin", tmp_path / "in")
    store.get_file("apps/web/b.bin", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"file body"
    assert store.exists("apps/web/b.bin") and not store.exists("apps/web/c.bin")
    assert store.url("apps/web/b.bin").endswith("/apps/web/b.bin")


def test_contract_missing_keys(store, tmp_path):
    store.put_bytes("apps/other", b"")  # the bucket exists; only the key is missing
    with pytest.raises(NotFound, match="^apps/web/gone is not in object storage$"):
        store.get_bytes("apps/web/gone")
    with pytest.raises(NotFound, match="^apps/web/gone is not in object storage$"):
        store.get_file("apps/web/gone", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [name for name in os.listdir(tmp_path) if name != "objects"] == []
    store.delete("apps/web/gone")


def test_contract_list_and_delete_prefix(store):
    for key in ("apps/web2/x", "apps/web/z", "apps/web/a/deep", "apps/web/m", "top"):
        store.put_bytes(key, b"-")
    assert store.list("apps/web") == ["apps/web/a/deep", "apps/web/m", "apps/web/z"]
    assert store.list("apps/web/") == store.list("apps/web")
    assert store.list("") == ["apps/web/a/deep", "apps/web/m", "apps/web/z", "apps/web2/x", "top"]
    assert store.list("apps/none") == [] and store.list("top") == []
    store.put_bytes("apps/web/m", b"twelve bytes")
    assert store.sizes("apps/web") == {"apps/web/a/deep": 1, "apps/web/m": 12, "apps/web/z": 1}
    assert store.sizes("apps/none") == {}
    store.delete("apps/web/m")
    store.delete_prefix("apps/web")
    assert store.list("") == ["apps/web2/x", "top"]
    with pytest.raises(StorageError):
        store.delete_prefix("")


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/./b", "a b", "a/"])
def test_contract_bad_keys(store, key):
    for call in (lambda: store.put_bytes(key, b""), lambda: store.get_bytes(key), lambda: store.exists(key),
                 lambda: store.delete(key), lambda: store.url(key)):
        with pytest.raises(StorageError, match="object key"):
            call()
