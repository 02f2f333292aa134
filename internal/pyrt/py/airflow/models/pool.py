from airflow.models._orm import _model

Pool = _model("Pool")
