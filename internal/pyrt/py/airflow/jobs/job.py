from airflow.models._orm import _model

Job = _model("Job")


def most_recent_job(*args, **kwargs):
    from airflow.models._orm import _refuse

    _refuse("Job")
