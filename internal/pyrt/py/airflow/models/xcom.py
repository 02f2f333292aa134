"""XCom: use ti.xcom_pull / ti.xcom_push in tasks; the ORM class methods are refused."""
from airflow.models._orm import _ORMMeta
from airflow.utils.xcom import XCOM_RETURN_KEY  # noqa: F401

MAX_XCOM_SIZE = 49344


class BaseXCom(metaclass=_ORMMeta):
    pass


XCom = BaseXCom
LazyXComSelectSequence = list
