from windsock_rt import Unsupported

raise Unsupported("SubDagOperator (airflow.example_dags.subdags.subdag)", "use a TaskGroup instead")
