"""SubDagOperator is refused on purpose (deprecated in Airflow 2; use TaskGroup)."""
from windsock_rt import Unsupported

raise Unsupported("SubDagOperator", "sub-DAGs are deprecated since Airflow 2.0; use a TaskGroup instead")
