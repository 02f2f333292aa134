"""Sentinels and small enums shared across the package."""
import enum


class ArgNotSet:
    """The type of NOTSET: an argument the caller did not give (None is a
    meaningful value for several DAG arguments)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "NOTSET"

    def __bool__(self):
        return False


NOTSET = ArgNotSet()


class DagRunType(str, enum.Enum):
    BACKFILL_JOB = "backfill"
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    DATASET_TRIGGERED = "dataset_triggered"

    def __str__(self):
        return self.value


class EdgeInfoType(dict):
    pass
