"""Airflow's example DAGs are not shipped with Windsock."""
