"""airflow.models.dataset: the names DAG files import from here."""
from airflow.datasets import Dataset, DatasetAlias  # noqa: F401


class DatasetModel:
    pass


class DatasetEvent:
    pass


class DatasetDagRunQueue:
    pass
