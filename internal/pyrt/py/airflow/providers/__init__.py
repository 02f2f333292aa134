"""Provider packages: native ones live here as files; any other
airflow.providers.* path imports as placeholders (airflow._aliases)."""
