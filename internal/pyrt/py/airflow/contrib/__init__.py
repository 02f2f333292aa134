"""Airflow 1.10's contrib modules: every path imports through the alias table (airflow._aliases)."""
