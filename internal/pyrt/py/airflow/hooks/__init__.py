"""airflow.hooks: BaseHook; 1.10 *_hook paths go through the alias table."""
