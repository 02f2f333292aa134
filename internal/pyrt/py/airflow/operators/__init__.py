"""airflow.operators: core operators; 1.10 module names (bash_operator,
python_operator, dummy_operator...) import through airflow._aliases."""
