"""The parts of apache-airflow-providers-amazon Windsock ships in Python.

Operators and sensors of this provider run natively in Go (see
windsock_rt.native); the hooks here are for task code that calls AWS
itself. Every other name under this package still imports, as a
placeholder that fails clearly when used."""
