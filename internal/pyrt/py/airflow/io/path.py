"""ObjectStoragePath: local paths (file://) work; other schemes need their
provider's filesystem, which is reported when used."""
import os
import posixpath

from airflow.exceptions import AirflowException


class ObjectStoragePath:
    sep = "/"

    def __init__(self, *args, conn_id=None, protocol=None, **kwargs):
        parts = [str(a) for a in args] or [""]
        url = parts[0]
        for p in parts[1:]:
            url = url.rstrip("/") + "/" + p.lstrip("/")
        self._url = url
        self.conn_id = conn_id
        if "://" in url:
            self.protocol, rest = url.split("://", 1)
        else:
            self.protocol, rest = protocol or "file", url
        self._path = rest

    def __truediv__(self, other):
        return ObjectStoragePath(self._url.rstrip("/") + "/" + str(other).lstrip("/"), conn_id=self.conn_id)

    def joinpath(self, *others):
        p = self
        for o in others:
            p = p / o
        return p

    def __str__(self):
        return self._url

    def __repr__(self):
        return "ObjectStoragePath(%r)" % self._url

    def __eq__(self, other):
        return isinstance(other, ObjectStoragePath) and str(other) == str(self)

    def __hash__(self):
        return hash(self._url)

    @property
    def path(self):
        return self._path

    @property
    def name(self):
        return posixpath.basename(self._path.rstrip("/"))

    @property
    def stem(self):
        return os.path.splitext(self.name)[0]

    @property
    def suffix(self):
        return os.path.splitext(self.name)[1]

    @property
    def parent(self):
        return ObjectStoragePath("%s://%s" % (self.protocol, posixpath.dirname(self._path.rstrip("/"))), conn_id=self.conn_id)

    @property
    def bucket(self):
        return self._path.split("/", 1)[0]

    @property
    def key(self):
        return self._path.split("/", 1)[1] if "/" in self._path else ""

    def _local(self):
        if self.protocol not in ("file", "local"):
            from airflow._providers import provider_of

            raise AirflowException("ObjectStoragePath %s: the %r filesystem needs its provider package, which this environment lacks" % (self._url, self.protocol))
        return self._path if self._path.startswith("/") else "/" + self._path

    def exists(self):
        return os.path.exists(self._local())

    def is_dir(self):
        return os.path.isdir(self._local())

    def is_file(self):
        return os.path.isfile(self._local())

    def mkdir(self, parents=False, exist_ok=False, mode=0o777):
        if parents:
            os.makedirs(self._local(), mode=mode, exist_ok=exist_ok)
        else:
            try:
                os.mkdir(self._local(), mode)
            except FileExistsError:
                if not exist_ok:
                    raise

    def open(self, mode="r", **kwargs):
        return open(self._local(), mode, **kwargs)

    def read_text(self, encoding=None):
        with self.open("r", encoding=encoding) as f:
            return f.read()

    def read_bytes(self):
        with self.open("rb") as f:
            return f.read()

    def write_text(self, data, encoding=None):
        with self.open("w", encoding=encoding) as f:
            return f.write(data)

    def write_bytes(self, data):
        with self.open("wb") as f:
            return f.write(data)

    def iterdir(self):
        for n in sorted(os.listdir(self._local())):
            yield self / n

    def unlink(self, missing_ok=False):
        try:
            os.unlink(self._local())
        except FileNotFoundError:
            if not missing_ok:
                raise

    def stat(self):
        return os.stat(self._local())
