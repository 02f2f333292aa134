"""S3Hook over boto3, with the provider's common methods: task code that
reads and writes S3 (and S3-compatible servers through the connection's
endpoint_url)."""
import fnmatch
import gzip as gz
import inspect
import io
import os
import re
import shutil
import tempfile
import uuid
from functools import wraps
from urllib.parse import urlsplit

from airflow.exceptions import AirflowException
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook


def _client_error_code(exc):
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code", ""))


def _is_not_found(exc):
    return _client_error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


def _bound(func, self, args, kwargs):
    """The call's arguments by name (signature follows __wrapped__)."""
    b = inspect.signature(func).bind(self, *args, **kwargs)
    return b


def provide_bucket_name(func):
    """Fills bucket_name from the connection's service_config.s3.bucket_name
    when the caller gives none."""

    @wraps(func)
    def wrapper(self, *args, **kwargs):
        b = _bound(func, self, args, kwargs)
        if b.arguments.get("bucket_name") is None:
            default = self._default_bucket()
            if default:
                b.arguments["bucket_name"] = default
        return func(*b.args, **b.kwargs)

    return wrapper


def unify_bucket_name_and_key(func):
    """A key given as s3://bucket/key with no bucket_name is split in two."""

    @wraps(func)
    def wrapper(self, *args, **kwargs):
        b = _bound(func, self, args, kwargs)
        key_name = "wildcard_key" if "wildcard_key" in b.signature.parameters else "key"
        key = b.arguments.get(key_name)
        if b.arguments.get("bucket_name") is None and key and urlsplit(key).scheme:
            b.arguments["bucket_name"], b.arguments[key_name] = S3Hook.parse_s3_url(key)
        return func(*b.args, **b.kwargs)

    return wrapper


class S3Hook(AwsBaseHook):
    conn_type = "s3"
    hook_name = "Amazon S3"

    def __init__(self, aws_conn_id=AwsBaseHook.default_conn_name, transfer_config_args=None, extra_args=None, *args, **kwargs):
        kwargs["client_type"] = "s3"
        kwargs["aws_conn_id"] = aws_conn_id
        super().__init__(*args, **kwargs)
        self.transfer_config_args = transfer_config_args or {}
        self._extra_args = dict(extra_args or {})

    @property
    def extra_args(self):
        return dict(self._extra_args)

    def _default_bucket(self):
        self._conn_settings()
        return ((self._extra.get("service_config") or {}).get("s3") or {}).get("bucket_name")

    @property
    def s3_client(self):
        client = getattr(self, "_s3_client", None)
        if client is None:
            client = self._s3_client = self.get_client_type("s3")
        return client

    @property
    def resource(self):
        return self.get_resource_type("s3")

    # --- URLs -------------------------------------------------------------

    @staticmethod
    def parse_s3_url(s3url):
        """(bucket, key) of s3://bucket/key (s3a://, s3n:// too) or of a
        path-style or virtual-hosted https URL."""
        parts = urlsplit(s3url)
        if parts.scheme in ("s3", "s3a", "s3n"):
            if not parts.netloc:
                raise AirflowException('Please provide a bucket name using a valid format: "%s"' % s3url)
            return parts.netloc, parts.path.lstrip("/")
        if parts.scheme in ("http", "https"):
            host = parts.netloc
            m = re.match(r"^(.+)\.s3[.-]", host)
            if m:
                return m.group(1), parts.path.lstrip("/")
            bucket, _, key = parts.path.lstrip("/").partition("/")
            return bucket, key
        raise AirflowException('Please provide a bucket name using a valid format: "%s"' % s3url)

    @staticmethod
    def get_s3_bucket_key(bucket, key, bucket_param_name, key_param_name):
        if bucket is None:
            return S3Hook.parse_s3_url(key)
        if urlsplit(key).scheme:
            raise TypeError(
                "If `%s` is provided, %s should be a relative path from root level, rather than a full s3:// url"
                % (bucket_param_name, key_param_name)
            )
        return bucket, key

    # --- buckets ----------------------------------------------------------

    @provide_bucket_name
    def check_for_bucket(self, bucket_name=None):
        try:
            self.s3_client.head_bucket(Bucket=bucket_name)
            return True
        except Exception as e:
            if _client_error_code(e):
                self.log.info('Bucket "%s" does not exist or cannot be reached: %s', bucket_name, e)
                return False
            raise

    @provide_bucket_name
    def get_bucket(self, bucket_name=None):
        return self.resource.Bucket(bucket_name)

    @provide_bucket_name
    def create_bucket(self, bucket_name=None, region_name=None):
        region = region_name or self.conn_config.get("region_name") or "us-east-1"
        if region == "us-east-1":
            self.s3_client.create_bucket(Bucket=bucket_name)
        else:
            self.s3_client.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": region})

    def delete_bucket(self, bucket_name, force_delete=False, max_retries=5):
        if force_delete:
            keys = self.list_keys(bucket_name=bucket_name)
            if keys:
                self.delete_objects(bucket=bucket_name, keys=keys)
        self.s3_client.delete_bucket(Bucket=bucket_name)

    # --- listing ----------------------------------------------------------

    def _pages(self, bucket_name, prefix, delimiter, page_size, max_items, start_after_key=""):
        paginator = self.s3_client.get_paginator("list_objects_v2")
        args = {"Bucket": bucket_name, "Prefix": prefix or "", "Delimiter": delimiter or ""}
        if start_after_key:
            args["StartAfter"] = start_after_key
        config = {}
        if page_size:
            config["PageSize"] = page_size
        if max_items:
            config["MaxItems"] = max_items
        return paginator.paginate(PaginationConfig=config, **args)

    @provide_bucket_name
    def check_for_prefix(self, prefix, delimiter, bucket_name=None):
        prefix = prefix + delimiter if prefix[-1:] != delimiter else prefix
        prev = re.split(r"(\w+[%s])$" % re.escape(delimiter), prefix, maxsplit=1)[0] if delimiter else ""
        return prefix in self.list_prefixes(bucket_name, prev, delimiter)

    @provide_bucket_name
    def list_prefixes(self, bucket_name=None, prefix=None, delimiter=None, page_size=None, max_items=None):
        out = []
        for page in self._pages(bucket_name, prefix, delimiter, page_size, max_items):
            out.extend(p["Prefix"] for p in page.get("CommonPrefixes") or ())
        return out

    @provide_bucket_name
    def list_keys(self, bucket_name=None, prefix=None, delimiter=None, page_size=None, max_items=None,
                  start_after_key=None, from_datetime=None, to_datetime=None, object_filter=None, apply_wildcard=False):
        prefix = prefix or ""
        pattern = None
        if apply_wildcard and any(c in prefix for c in "*?["):
            pattern = prefix
            prefix = re.split(r"[\[*?]", prefix, maxsplit=1)[0]
        objects = []
        for page in self._pages(bucket_name, prefix, delimiter, page_size, max_items, start_after_key or ""):
            objects.extend(page.get("Contents") or ())
        if from_datetime is not None or to_datetime is not None:
            objects = [
                o for o in objects
                if (from_datetime is None or o["LastModified"] >= from_datetime)
                and (to_datetime is None or o["LastModified"] < to_datetime)
            ]
        if object_filter is not None:
            return object_filter(objects, from_datetime, to_datetime)
        keys = [o["Key"] for o in objects]
        if pattern is not None:
            keys = [k for k in keys if fnmatch.fnmatch(k, pattern)]
        return keys

    @provide_bucket_name
    def get_file_metadata(self, prefix, bucket_name=None, page_size=None, max_items=None):
        out = []
        for page in self._pages(bucket_name, prefix, "", page_size, max_items):
            out.extend(page.get("Contents") or ())
        return out

    # --- keys -------------------------------------------------------------

    @unify_bucket_name_and_key
    @provide_bucket_name
    def head_object(self, key, bucket_name=None):
        try:
            return self.s3_client.head_object(Bucket=bucket_name, Key=key)
        except Exception as e:
            if _is_not_found(e):
                return None
            raise

    @unify_bucket_name_and_key
    @provide_bucket_name
    def check_for_key(self, key, bucket_name=None):
        return self.head_object(key, bucket_name) is not None

    @unify_bucket_name_and_key
    @provide_bucket_name
    def get_key(self, key, bucket_name=None):
        obj = self.resource.Object(bucket_name, key)
        obj.load()
        return obj

    @unify_bucket_name_and_key
    @provide_bucket_name
    def read_key(self, key, bucket_name=None):
        body = self.s3_client.get_object(Bucket=bucket_name, Key=key)["Body"].read()
        return body.decode("utf-8")

    def select_key(self, *args, **kwargs):
        raise AirflowException("S3Hook.select_key (S3 Select) is not available in Windsock: read the key with read_key")

    @unify_bucket_name_and_key
    @provide_bucket_name
    def check_for_wildcard_key(self, wildcard_key, bucket_name=None, delimiter=""):
        return self.get_wildcard_key(wildcard_key=wildcard_key, bucket_name=bucket_name, delimiter=delimiter) is not None

    @unify_bucket_name_and_key
    @provide_bucket_name
    def get_wildcard_key(self, wildcard_key, bucket_name=None, delimiter=""):
        prefix = re.split(r"[\[*?]", wildcard_key, maxsplit=1)[0]
        for key in self.list_keys(bucket_name=bucket_name, prefix=prefix, delimiter=delimiter):
            if fnmatch.fnmatch(key, wildcard_key):
                return self.get_key(key=key, bucket_name=bucket_name)
        return None

    # --- writing ----------------------------------------------------------

    def _put_args(self, encrypt, acl_policy):
        args = dict(self._extra_args)
        if encrypt:
            args["ServerSideEncryption"] = "AES256"
        if acl_policy:
            args["ACL"] = acl_policy
        return args

    def _refuse_existing(self, key, bucket_name, replace):
        if not replace and self.check_for_key(key, bucket_name):
            raise ValueError("The key %s already exists." % key)

    @unify_bucket_name_and_key
    @provide_bucket_name
    def load_file(self, filename, key, bucket_name=None, replace=False, encrypt=False, gzip=False, acl_policy=None):
        filename = str(filename)
        self._refuse_existing(key, bucket_name, replace)
        args = self._put_args(encrypt, acl_policy)
        if gzip:
            with open(filename, "rb") as f_in, tempfile.NamedTemporaryFile(suffix=".gz", delete=False) as f_out:
                with gz.GzipFile(fileobj=f_out, mode="wb") as z:
                    shutil.copyfileobj(f_in, z)
            try:
                self.s3_client.upload_file(f_out.name, bucket_name, key, ExtraArgs=args)
            finally:
                os.unlink(f_out.name)
            return
        self.s3_client.upload_file(filename, bucket_name, key, ExtraArgs=args)

    @unify_bucket_name_and_key
    @provide_bucket_name
    def load_string(self, string_data, key, bucket_name=None, replace=False, encrypt=False, encoding=None,
                    acl_policy=None, compression=None):
        data = string_data.encode(encoding or "utf-8")
        if compression == "gzip":
            data = gz.compress(data)
        elif compression is not None:
            raise NotImplementedError("Received %s compression type. String can currently be compressed in gzip only." % compression)
        self._upload(io.BytesIO(data), key, bucket_name, replace, encrypt, acl_policy)

    @unify_bucket_name_and_key
    @provide_bucket_name
    def load_bytes(self, bytes_data, key, bucket_name=None, replace=False, encrypt=False, acl_policy=None):
        self._upload(io.BytesIO(bytes_data), key, bucket_name, replace, encrypt, acl_policy)

    @unify_bucket_name_and_key
    @provide_bucket_name
    def load_file_obj(self, file_obj, key, bucket_name=None, replace=False, encrypt=False, acl_policy=None):
        self._upload(file_obj, key, bucket_name, replace, encrypt, acl_policy)

    def _upload(self, file_obj, key, bucket_name, replace, encrypt, acl_policy):
        self._refuse_existing(key, bucket_name, replace)
        self.s3_client.upload_fileobj(file_obj, bucket_name, key, ExtraArgs=self._put_args(encrypt, acl_policy))

    def copy_object(self, source_bucket_key, dest_bucket_key, source_bucket_name=None, dest_bucket_name=None,
                    source_version_id=None, acl_policy=None, **kwargs):
        dest_bucket_name, dest_bucket_key = self.get_s3_bucket_key(dest_bucket_name, dest_bucket_key, "dest_bucket_name", "dest_bucket_key")
        source_bucket_name, source_bucket_key = self.get_s3_bucket_key(
            source_bucket_name, source_bucket_key, "source_bucket_name", "source_bucket_key"
        )
        source = {"Bucket": source_bucket_name, "Key": source_bucket_key}
        if source_version_id:
            source["VersionId"] = source_version_id
        args = dict(kwargs)
        if acl_policy:
            args["ACL"] = acl_policy
        return self.s3_client.copy_object(Bucket=dest_bucket_name, Key=dest_bucket_key, CopySource=source, **args)

    def delete_objects(self, bucket, keys):
        if isinstance(keys, str):
            keys = [keys]
        keys = list(keys)
        # DeleteObjects takes at most 1,000 keys a call.
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            response = self.s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk]})
            errors = response.get("Errors") or []
            if errors:
                raise AirflowException("Errors when deleting: %s" % [e.get("Key") for e in errors])

    # --- reading to files -------------------------------------------------

    @unify_bucket_name_and_key
    @provide_bucket_name
    def download_file(self, key, bucket_name=None, local_path=None, preserve_file_name=False, use_autogenerated_subdir=True):
        """Downloads the key and returns the local file's path: a new
        airflow_tmp_* file, or the key's own file name when
        preserve_file_name (in a fresh subfolder unless
        use_autogenerated_subdir is off)."""
        folder = local_path or tempfile.gettempdir()
        if preserve_file_name:
            name = os.path.basename(urlsplit(key).path) or key.rsplit("/", 1)[-1]
            if use_autogenerated_subdir:
                folder = os.path.join(folder, "airflow_tmp_dir_" + uuid.uuid4().hex[:8])
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, name)
            if os.path.exists(path):
                raise FileExistsError("%s already exists" % path)
            f = open(path, "wb")
        else:
            f = tempfile.NamedTemporaryFile(dir=folder, prefix="airflow_tmp_", delete=False)
            path = f.name
        with f:
            self.s3_client.download_fileobj(bucket_name, key, f)
        return path

    def generate_presigned_url(self, client_method, params=None, expires_in=3600, http_method=None):
        return self.s3_client.generate_presigned_url(
            ClientMethod=client_method, Params=params or {}, ExpiresIn=expires_in, HttpMethod=http_method
        )
