"""Datasets (2.4+), dataset expressions (& and |, 2.9+) and DatasetAlias (2.10)."""


def _sanitize_uri(uri):
    if not uri:
        raise ValueError("Dataset URI cannot be empty")
    if uri.isspace():
        raise ValueError("Dataset URI cannot be just whitespace")
    if not uri.isascii():
        raise ValueError("Dataset URI must only consist of ASCII characters")
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme.lower() == "airflow":
        raise ValueError("Dataset scheme 'airflow' is reserved")
    return uri


class BaseDataset:
    def __or__(self, other):
        if not isinstance(other, BaseDataset):
            return NotImplemented
        return DatasetAny(self, other)

    def __and__(self, other):
        if not isinstance(other, BaseDataset):
            return NotImplemented
        return DatasetAll(self, other)

    def iter_datasets(self):
        return iter(())


class Dataset(BaseDataset):
    """A data item identified by a URI."""

    def __init__(self, uri, extra=None):
        if not isinstance(uri, str):
            raise TypeError("Dataset URI must be a string")
        self.uri = _sanitize_uri(uri)
        self.extra = extra or {}

    def __eq__(self, other):
        return isinstance(other, Dataset) and self.uri == other.uri

    def __hash__(self):
        return hash(self.uri)

    def __repr__(self):
        return "Dataset(uri=%r, extra=%r)" % (self.uri, self.extra)

    @property
    def normalized_uri(self):
        return self.uri

    def iter_datasets(self):
        yield self.uri, self


class DatasetAlias(BaseDataset):
    """A name that resolves to datasets added at run time (2.10)."""

    def __init__(self, name):
        if not isinstance(name, str) or not name:
            raise ValueError("DatasetAlias name must be a non-empty string")
        self.name = name

    def __eq__(self, other):
        return isinstance(other, DatasetAlias) and self.name == other.name

    def __hash__(self):
        return hash(("alias", self.name))

    def __repr__(self):
        return "DatasetAlias(name=%r)" % self.name


class _DatasetBooleanCondition(BaseDataset):
    agg_func = None

    def __init__(self, *objects):
        if not all(isinstance(o, BaseDataset) for o in objects):
            raise TypeError("expect dataset expressions in condition")
        self.objects = objects

    def iter_datasets(self):
        for o in self.objects:
            yield from o.iter_datasets()


class DatasetAny(_DatasetBooleanCondition):
    agg_func = any

    def __or__(self, other):
        if not isinstance(other, BaseDataset):
            return NotImplemented
        return DatasetAny(*self.objects, other)

    def __repr__(self):
        return "DatasetAny(%s)" % ", ".join(map(repr, self.objects))


class DatasetAll(_DatasetBooleanCondition):
    agg_func = all

    def __and__(self, other):
        if not isinstance(other, BaseDataset):
            return NotImplemented
        return DatasetAll(*self.objects, other)

    def __repr__(self):
        return "DatasetAll(%s)" % ", ".join(map(repr, self.objects))


def expand_alias_to_datasets(alias):
    return []
