from airflow._aliases import resolve

GenericTransfer = resolve("airflow.providers.common.sql.operators.generic_transfer.GenericTransfer")
