"""Object storage on any S3 API: AWS, MinIO, Ceph RGW (set `path_style` for the last two)."""
import os
import tempfile
from urllib.parse import quote

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.storage.base import NotFound, StorageError, Store, check_key, check_prefix

# Above this size put_file/get_file move the object in parts, in parallel, each retried on its own.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
MISSING = {"404", "NoSuchKey", "NotFound"}
DELETE_BATCH = 1000  # the most DeleteObjects accepts in one request


def _status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _code(exc):
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store(Store):
    def __init__(self, bucket, endpoint="", region="us-east-1", access_key="", secret_key="",
                 path_style=False, *, max_attempts=5):
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.path_style = path_style
        self.where = f"bucket {bucket} at {endpoint or 'AWS S3 ' + region}"
        self._secret_key = secret_key  # kept only to scrub it from error text
        self._bucket_ready = False
        options = dict(region_name=region, connect_timeout=10, read_timeout=60,
                       retries={"max_attempts": max_attempts, "mode": "standard"})
        if path_style:
            options["s3"] = {"addressing_style": "path"}
        try:
            # Empty credentials mean boto3's own lookup: environment, shared files, instance role.
            self.client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint or None, aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None, config=Config(**options))
        except (BotoCoreError, ValueError) as exc:
            raise self._error("connecting", exc) from exc

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.s3_bucket, settings.s3_endpoint, settings.s3_region, settings.s3_access_key,
                   settings.s3_secret_key, settings.s3_path_style)

    def _error(self, what, exc):
        # Only a missing object is NotFound; a missing bucket (NoSuchBucket) is a configuration error.
        if isinstance(exc, ClientError) and _code(exc) in MISSING:
            return NotFound(f"{what} is not in object storage")
        text = f"{what} in {self.where}: {exc}"
        if self._secret_key:
            # botocore does not put credentials in messages today; this keeps it so if that changes.
            text = text.replace(self._secret_key, "***")
        return StorageError(text)

    def ensure_bucket(self):
        """Creates the bucket when it is missing; called before the first write, checked once."""
        if self._bucket_ready:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _status(exc) != 404:
                raise self._error("checking the bucket", exc) from exc
            self._create_bucket()
        except BotoCoreError as exc:
            raise self._error("checking the bucket", exc) from exc
        self._bucket_ready = True

    def _create_bucket(self):
        # us-east-1 is S3's default location and refuses to be named as a LocationConstraint.
        extra = {}
        if self.region and self.region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":  # another worker created it first
                raise self._error("creating the bucket", exc) from exc
        except BotoCoreError as exc:
            raise self._error("creating the bucket", exc) from exc

    def put_file(self, key, path):
        check_key(key)
        self.ensure_bucket()
        try:
            self.client.upload_file(path, self.bucket, key, Config=TRANSFER)
        except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
            raise self._error(f"uploading {key}", exc) from exc

    def get_file(self, key, path):
        check_key(key)
        try:
            file_fd, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                                  prefix=f".{os.path.basename(path)}.", suffix=".part")
            os.close(file_fd)
        except OSError as exc:
            raise StorageError(f"{key}: writing {path}: {exc.strerror}") from exc
        try:
            self.client.download_file(self.bucket, key, temporary, Config=TRANSFER)
            os.replace(temporary, path)
        except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
            raise self._error(key, exc) from exc
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def put_bytes(self, key, data):
        check_key(key)
        self.ensure_bucket()
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(f"uploading {key}", exc) from exc

    def get_bytes(self, key):
        check_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise self._error(key, exc) from exc

    def exists(self, key):
        check_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise self._error(f"checking {key}", exc) from exc
        except BotoCoreError as exc:
            raise self._error(f"checking {key}", exc) from exc

    def delete(self, key):
        check_key(key)
        self.ensure_bucket()
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 answers 204 for a missing key too
        except (BotoCoreError, ClientError) as exc:
            raise self._error(f"deleting {key}", exc) from exc

    def delete_prefix(self, prefix):
        check_prefix(prefix)
        self.ensure_bucket()
        keys = self.list(prefix)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start:start + DELETE_BATCH]]
            try:
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except (BotoCoreError, ClientError) as exc:
                raise self._error(f"deleting {prefix}", exc) from exc
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(f"deleting {prefix} in {self.where}: {len(answer['Errors'])} objects "
                                   f"were not deleted, e.g. {first.get('Key')}: {first.get('Message')}")

    def list(self, prefix=""):
        return sorted(self.sizes(prefix))

    def sizes(self, prefix=""):
        base = check_prefix(prefix, allow_everything=True)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{base}/" if base else "")
        try:
            # Pages are fetched lazily, so the loop itself must sit inside the try.
            return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", ())}
        except (BotoCoreError, ClientError) as exc:
            raise self._error(f"listing {prefix or 'every key'}", exc) from exc

    def url(self, key):
        path = quote(check_key(key))
        # The addressing botocore itself uses: path-style on custom endpoints, virtual-hosted on AWS
        # (unless the bucket name has dots, which would break the TLS wildcard certificate).
        if self.endpoint or self.path_style or "." in self.bucket:
            endpoint = self.client.meta.endpoint_url.rstrip("/")
            return f"{endpoint}/{self.bucket}/{path}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{path}"
