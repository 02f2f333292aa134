"""airflow.sensors: core sensors; 1.10 module names import through airflow._aliases."""
