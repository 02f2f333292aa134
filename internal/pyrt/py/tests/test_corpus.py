"""Every corpus file (DAG files written in the styles real repositories use,
in the proportions the reference measured) parses with no import error, and
the structure Windsock builds from them is right."""
import glob
import os
import sys
import unittest

from tests.helpers import CORPUS, dag_doc, parse

EMPTY = "airflow.operators.empty.EmptyOperator"
BASH = "airflow.operators.bash.BashOperator"
PY = "python_file_task"

_results = {}


def parsed(name):
    if name not in _results:
        if CORPUS not in sys.path:
            sys.path.insert(1, CORPUS)  # the DAG folder is on sys.path, as in Airflow
        _results[name] = parse.parse_file(os.path.join(CORPUS, name), {"dags_folder": CORPUS})
    return _results[name]


def tasks(name, dag_id):
    return dag_doc(parsed(name), dag_id)["tasks"]


class CorpusLoadsTest(unittest.TestCase):
    def test_every_file_parses_without_import_errors(self):
        files = sorted(glob.glob(os.path.join(CORPUS, "*.py")))
        self.assertGreaterEqual(len(files), 60)
        total = 0
        for path in files:
            res = parsed(os.path.basename(path))
            with self.subTest(file=os.path.basename(path)):
                self.assertEqual(res["import_errors"], [])
                self.assertGreater(len(res["dags"]), 0)
                for d in res["dags"]:
                    self.assertGreater(len(d["doc"]["tasks"]), 0)
                    self.assertGreater(d["line"], 0)
            total += len(res["dags"])
        self.assertGreaterEqual(total, 65)

    def test_documents_are_json(self):
        import json

        for path in sorted(glob.glob(os.path.join(CORPUS, "*.py"))):
            json.dumps(parsed(os.path.basename(path)), allow_nan=False)


class CorpusStructureTest(unittest.TestCase):
    def deps(self, t):
        return t.get("dependencies", [])

    def test_taskflow_etl(self):
        res = parsed("astro_taskflow_etl.py")
        doc = dag_doc(res, "taskflow_etl")
        self.assertEqual(doc["schedule"], "@daily")
        self.assertEqual(doc["start_date"], "2024-01-01T00:00:00+00:00")
        self.assertIs(doc["catchup"], False)
        self.assertIn("TaskFlow ETL", doc["doc_md"])
        self.assertEqual(doc["default_args"], {"owner": "Astro", "retries": 3})
        t = doc["tasks"]
        self.assertEqual(list(t), ["extract", "transform", "load"])
        self.assertEqual(self.deps(t["transform"]), ["extract"])
        self.assertEqual(self.deps(t["load"]), ["transform"])
        info = t["transform"]["python_file_task"]
        self.assertEqual(info["class_path"], "airflow.decorators.python._PythonDecoratedOperator")
        self.assertEqual(info["operator_name"], "@task")
        self.assertTrue(info["multiple_outputs"])
        self.assertFalse(t["extract"]["python_file_task"]["multiple_outputs"])
        self.assertEqual(t["load"]["python_file_task"]["kwargs"]["op_args"],
                         [{"__xcomarg__": {"task_id": "transform", "key": "total_order_value"}}])
        self.assertEqual(t["load"]["retries"], 3, "default_args reach @task operators")

    def test_classic_python_etl(self):
        t = tasks("user_classic_python_etl.py", "classic_python_etl")
        self.assertEqual([x["operator"] for x in t.values()], [PY] * 3)
        self.assertEqual(t["extract"]["python_file_task"]["class_path"], "airflow.operators.python.PythonOperator")
        self.assertEqual(t["extract"]["python_file_task"]["kwargs"], {"python_callable": {"__python__": "extract"}})
        self.assertEqual(t["load"]["retry_delay"], {"__type__": "datetime.timedelta", "seconds": 300.0})
        self.assertEqual(t["load"]["owner"], "analytics")
        self.assertEqual(t["load"]["start_date"], "2023-05-01T00:00:00")

    def test_loops_and_native_bash(self):
        t = tasks("user_classic_op_kwargs.py", "copy_tables")
        self.assertEqual(len(t), 10)
        self.assertEqual(t["check_orders"]["operator"], BASH)
        self.assertEqual(t["check_orders"]["bash_command"], "echo checking orders")
        self.assertEqual(self.deps(t["finish"]), ["check_customers", "check_orders", "check_payments", "check_refunds"])
        self.assertEqual(t["copy_orders"]["python_file_task"]["kwargs"]["op_kwargs"], {"table": "orders", "target": "warehouse"})

    def test_set_upstream_and_dag_kwarg(self):
        res = parsed("user_classic_dag_kwarg.py")
        doc = dag_doc(res, "dag_kwarg_style")
        self.assertEqual(doc["schedule"], {"__type__": "datetime.timedelta", "seconds": 21600.0})
        self.assertEqual(doc["dagrun_timeout"], {"__type__": "datetime.timedelta", "seconds": 2700.0})
        self.assertEqual(self.deps(doc["tasks"]["sleep"]), ["print_date"])
        self.assertEqual(self.deps(doc["tasks"]["say"]), ["print_date"])
        self.assertEqual(doc["tasks"]["sleep"]["retries"], 3)

    def test_task_groups_classic(self):
        doc = dag_doc(parsed("user_task_group_classic.py"), "classic_task_groups")
        self.assertEqual(doc["task_groups"], {
            "extract": {"prefix_group_id": False, "tooltip": "Extract sources"},
            "transform": {"prefix_group_id": False},
            "transform.nested": {"prefix_group_id": False, "parent_group_name": "transform"},
        })
        t = doc["tasks"]
        self.assertEqual(self.deps(t["extract.pull_a"]), ["start"])
        self.assertEqual(self.deps(t["transform.clean"]), ["extract.pull_a", "extract.pull_b"])
        self.assertEqual(self.deps(t["end"]), ["transform.nested.deep"])
        self.assertEqual(t["transform.nested.deep"]["task_group_name"], "transform.nested")
        self.assertEqual(t["transform.clean"]["retries"], 4, "group default_args")

    def test_group_without_prefix_and_label(self):
        doc = dag_doc(parsed("course_group_no_prefix.py"), "group_no_prefix")
        self.assertEqual(sorted(doc["tasks"]), ["a", "b", "c"])
        self.assertEqual(doc["tasks"]["b"]["task_group_name"], "flat")

    def test_task_group_decorator_and_chain(self):
        t = tasks("astro_chain_groups.py", "chain_and_groups")
        self.assertEqual(list(t), ["start", "end", "per_region.fetch", "per_region.store", "per_region.fetch__1",
                                   "per_region.store__1", "audit"])
        self.assertEqual(self.deps(t["per_region.fetch__1"]), ["start"])
        self.assertEqual(self.deps(t["audit"]), ["per_region.store", "per_region.store__1"])
        self.assertEqual(self.deps(t["end"]), ["audit"])

    def test_branching_with_labels(self):
        res = parsed("astro_branching.py")
        t = dag_doc(res, "branching_labels")["tasks"]
        self.assertEqual(t["pick"]["python_file_task"]["operator_name"], "@task.branch")
        self.assertEqual(self.deps(t["fast_path"]), ["pick"])
        self.assertEqual(self.deps(t["join"]), ["fast_path", "slow_path"])
        self.assertEqual(t["join"]["trigger_rule"], "none_failed_min_one_success")

    def test_classic_branch_and_short_circuit(self):
        t = tasks("user_branch_classic.py", "classic_branching")
        self.assertEqual(t["branch"]["python_file_task"]["class_path"], "airflow.operators.python.BranchPythonOperator")
        self.assertEqual(t["gate"]["python_file_task"]["kwargs"]["ignore_downstream_trigger_rules"], False)
        self.assertEqual(self.deps(t["report"]), ["weekday", "weekend"])

    def test_dynamic_mapping(self):
        t = tasks("astro_dynamic_mapping.py", "dynamic_mapping")
        self.assertEqual(t["process"]["expand"], {"file_name": {"__xcomarg__": {"task_id": "list_files", "key": "return_value"}}})
        self.assertEqual(t["process"]["partial"], {"prefix": "s3://bucket"})
        self.assertEqual(self.deps(t["process"]), ["list_files"])
        self.assertEqual(self.deps(t["summarize"]), ["process"])
        self.assertEqual(t["echo_each"]["operator"], BASH)
        self.assertEqual(t["echo_each"]["expand"], {"bash_command": ["echo one", "echo two"]})
        self.assertEqual(t["echo_each"]["retries"], 1)

    def test_expand_kwargs_and_map(self):
        t = tasks("apache_example_mapping_kwargs.py", "example_expand_kwargs_like")
        self.assertEqual(t["bash_kw"]["operator"], BASH, "a native operator may expand over an XComArg")
        self.assertEqual(t["bash_kw"]["expand_kwargs"], {"__xcomarg__": {"task_id": "commands", "key": "return_value"}})
        mapped = t["consumer"]["expand_kwargs"]["__xcomarg__"]
        self.assertEqual((mapped["task_id"], mapped["kind"]), ("make_arg_lists", "MapXComArg"))
        self.assertEqual(t["add_one"]["expand"], {"x": [1, 2, 3]})

    def test_mapped_task_group_edges(self):
        t = tasks("astro_mapped_task_group.py", "mapped_task_group")
        self.assertEqual(list(t), ["regions", "per_region.extract", "per_region.load", "end"])
        self.assertEqual(self.deps(t["per_region.extract"]), ["regions"])
        self.assertEqual(self.deps(t["end"]), ["per_region.load"])

    def test_datasets(self):
        doc = dag_doc(parsed("astro_datasets_consumer.py"), "datasets_consumer")
        self.assertEqual(doc["schedule"], [{"uri": "s3://lake/raw/orders.parquet"}, {"uri": "s3://lake/clean/orders.parquet"}])
        doc = dag_doc(parsed("astro_datasets_consumer.py"), "datasets_any_consumer")
        self.assertEqual(doc["schedule"], {"datasets": {"__or__": [{"uri": "s3://lake/raw/orders.parquet"},
                                                                   {"uri": "s3://lake/clean/orders.parquet"}]}})
        t = tasks("astro_datasets_producer.py", "datasets_producer")
        self.assertEqual(t["land_raw"]["outlets"], [{"uri": "s3://lake/raw/orders.parquet"}])

    def test_dataset_or_time(self):
        doc = dag_doc(parsed("astro_dataset_or_time.py"), "dataset_or_time")
        self.assertEqual(doc["schedule"], {
            "timetable": {"__type__": "airflow.timetables.trigger.CronTriggerTimetable", "cron": "0 1 * * 5",
                          "timezone": "America/New_York"},
            "datasets": {"__and__": [{"uri": "s3://reports/weekly"}, {"uri": "s3://reports/daily"}]},
        })
        self.assertEqual(doc["timezone"], "America/New_York")
        self.assertEqual(doc["start_date"], "2024-06-01T00:00:00-04:00")

    def test_params(self):
        doc = dag_doc(parsed("astro_params_form.py"), "params_form")
        self.assertEqual(doc["params"]["environment"], {
            "__type__": "airflow.models.param.Param", "default": "dev", "description": "Target",
            "schema": {"type": "string", "enum": ["dev", "staging", "prod"]}})
        self.assertEqual(doc["params"]["note"], {"__type__": "airflow.models.param.Param", "default": "free text"})
        self.assertIs(doc["render_template_as_native_obj"], True)

    def test_custom_operator_template_file(self):
        doc = dag_doc(parsed("user_custom_operator_sql.py"), "custom_operator_sql")
        self.assertEqual(doc["template_searchpath"], [os.path.join(CORPUS, "sql")])
        t = doc["tasks"]["summary"]
        self.assertEqual(t["operator"], PY)
        info = t["python_file_task"]
        self.assertEqual(info["class_name"], "RunSqlFileOperator")
        self.assertEqual(info["template_fields"], ["sql", "target_table"])
        self.assertEqual(info["template_ext"], [".sql"])
        self.assertEqual(info["ui_color"], "#ededed")
        self.assertEqual(info["kwargs"], {"sql": "daily_summary.sql", "target_table": "daily_summary_{{ ds_nodash }}",
                                          "conn_id": "warehouse_prod"})

    def test_placeholders(self):
        t = tasks("mwaa_s3_glue.py", "mwaa_s3_glue")
        glue = t["run_glue"]
        self.assertEqual(glue["operator"], PY)
        self.assertEqual(glue["python_file_task"]["placeholder"],
                         {"provider": "amazon", "class_path": "airflow.providers.amazon.aws.operators.glue.GlueJobOperator"})
        self.assertEqual(glue["python_file_task"]["class_name"], "GlueJobOperator")
        self.assertEqual(glue["python_file_task"]["kwargs"]["job_name"], "transform-job")
        self.assertEqual(self.deps(glue), ["wait_for_file"])
        t = tasks("legacy_contrib_operators.py", "legacy_contrib_operators")
        self.assertEqual(t["bq"]["python_file_task"]["placeholder"]["class_path"],
                         "airflow.providers.google.cloud.operators.bigquery.BigQueryExecuteQueryOperator")
        self.assertEqual(t["pod"]["python_file_task"]["placeholder"]["provider"], "cncf.kubernetes")
        t = tasks("prov_snowflake_dbt.py", "snowflake_dbt")
        self.assertEqual(t["dbt_run"]["python_file_task"]["placeholder"]["provider"], "dbt.cloud")

    def test_placeholder_xcomarg_edges_inside_group(self):
        t = tasks("mwaa_task_groups_emr.py", "mwaa_emr_groups")
        self.assertEqual(self.deps(t["cluster.create"]), ["begin"], "begin >> group: the group's roots")
        self.assertEqual(self.deps(t["cluster.add_steps"]), ["cluster.create"], "job_flow_id=create.output")
        self.assertEqual(self.deps(t["end"]), ["cluster.watch"])
        self.assertEqual(t["begin"]["operator"], EMPTY, "DummyOperator is EmptyOperator")

    def test_mapped_placeholder(self):
        t = tasks("prov_mapped_placeholder.py", "mapped_placeholder")
        self.assertEqual(t["delete"]["partial"], {"bucket": "scratch"})
        self.assertEqual(t["delete"]["expand"], {"prefix": {"__xcomarg__": {"task_id": "prefixes", "key": "return_value"}}})

    def test_legacy_paths_and_provide_context(self):
        res = parsed("legacy_python_operator.py")
        t = dag_doc(res, "legacy_python_operator")["tasks"]
        self.assertEqual(t["start"]["operator"], EMPTY)
        self.assertEqual(t["templated"]["operator"], BASH)
        self.assertEqual(t["templated"]["params"], {"my_param": "Parameter I passed in"})
        self.assertNotIn("provide_context", t["print_the_context"]["python_file_task"]["kwargs"])
        self.assertEqual(t["print_the_context"]["python_file_task"]["class_path"], "airflow.operators.python.PythonOperator")
        t = tasks("legacy_contrib_sensors.py", "legacy_contrib_sensors")
        self.assertEqual(t["wait_file"]["operator"], "airflow.sensors.filesystem.FileSensor")
        self.assertEqual(t["wait_file"]["poke_interval"], 30)
        self.assertEqual(self.deps(t["process"]), ["wait_file", "wait_time"])

    def test_apply_defaults_custom_operator(self):
        t = tasks("legacy_apply_defaults.py", "legacy_apply_defaults")
        self.assertEqual(t["hello"]["python_file_task"]["kwargs"], {"name": "{{ dag.dag_id }}", "greeting": "hi"})
        self.assertEqual(t["hello"]["owner"], "me")

    def test_factory_and_globals(self):
        self.assertEqual([d["dag_id"] for d in parsed("user_factory_dags.py")["dags"]], ["ingest_crm", "ingest_erp", "ingest_web"])
        self.assertEqual(parsed("user_factory_dags.py")["dags"][0]["line"], 6, "the line in the DAG file that built it")
        self.assertEqual([d["dag_id"] for d in parsed("user_globals_loop.py")["dags"]], ["report_finance", "report_marketing"])

    def test_callbacks(self):
        doc = dag_doc(parsed("user_callbacks_sla.py"), "callbacks_and_sla")
        self.assertEqual(doc["on_failure_callback"], {"__python__": "on_failure"})
        self.assertEqual(doc["sla_miss_callback"], {"__python__": "sla_missed"})
        self.assertEqual(doc["tasks"]["report"]["operator"], BASH, "callbacks do not stop a task being native")
        self.assertEqual(doc["tasks"]["report"]["on_success_callback"], [{"__python__": "on_success"}])
        self.assertEqual(doc["tasks"]["report"]["on_failure_callback"], {"__python__": "on_failure"})
        self.assertEqual(doc["tasks"]["work"]["execution_timeout"], {"__type__": "datetime.timedelta", "seconds": 600.0})
        self.assertEqual(doc["tasks"]["work"]["sla"], {"__type__": "datetime.timedelta", "seconds": 1200.0})

    def test_user_macros_force_python(self):
        t = tasks("user_user_macros.py", "user_macros")
        self.assertEqual(t["macro_use"]["operator"], PY)
        self.assertEqual(t["macro_use"]["python_file_task"]["class_path"], BASH)

    def test_http_native_unless_callable(self):
        t = tasks("user_http_pipeline.py", "http_pipeline")
        self.assertEqual(t["api_up"]["operator"], "airflow.providers.http.sensors.http.HttpSensor")
        self.assertEqual(t["post"]["operator"], "airflow.providers.http.operators.http.SimpleHttpOperator")
        self.assertEqual(t["fetch"]["operator"], PY)

    def test_xcom_output_edges(self):
        t = tasks("user_xcom_output.py", "xcom_output_deps")
        self.assertEqual(self.deps(t["consume"]), ["produce"])
        self.assertEqual(self.deps(t["echo"]), [], "an XComArg inside an f-string is text, not an edge")
        self.assertIn("task_instance.xcom_pull(task_ids='produce', dag_id='xcom_output_deps', key='return_value')",
                      t["echo"]["bash_command"])

    def test_dag_arguments(self):
        doc = dag_doc(parsed("user_timezone_tags.py"), "timezone_dag")
        self.assertEqual(doc["timezone"], "Europe/Amsterdam")
        self.assertEqual(doc["start_date"], "2023-03-01T00:00:00+01:00")
        self.assertEqual(doc["end_date"], "2030-01-01T00:00:00+01:00")
        for k, v in {"max_active_runs": 2, "max_active_tasks": 4, "default_view": "graph", "orientation": "TB",
                     "is_paused_upon_creation": False, "tags": ["tz", "weekday"]}.items():
            self.assertEqual(doc[k], v)
        m = doc["tasks"]["morning"]
        self.assertEqual((m["pool"], m["priority_weight"], m["queue"]), ("reports", 5, "fast"))
        doc = dag_doc(parsed("user_short_circuit_latest.py"), "short_circuit_latest")
        self.assertEqual(doc["max_consecutive_failed_dag_runs"], 3)
        self.assertEqual(doc["dag_display_name"], "Short circuit & latest")

    def test_template_file_commands_run_in_python(self):
        t = tasks("user_common_defaults.py", "uses_common_defaults")
        self.assertEqual(t["publish"]["operator"], PY, "bash_command names scripts/cleanup.sh: its text is the command")
        self.assertEqual(t["publish"]["python_file_task"]["class_path"], BASH)
        self.assertEqual(t["publish"]["python_file_task"]["template_ext"], [".sh", ".bash"])

    def test_doc_md_from_a_file(self):
        doc = dag_doc(parsed("user_doc_md_file.py"), "doc_from_file")
        self.assertTrue(doc["doc_md"].startswith("# doc_from_file\n"), doc["doc_md"])

    def test_setup_teardown(self):
        t = tasks("mwaa_setup_teardown_classic.py", "mwaa_setup_teardown_classic")
        self.assertEqual(self.deps(t["delete_resource"]), ["create_resource", "use_resource"])
        self.assertEqual(t["delete_resource"]["operator"], BASH)

    def test_cross_and_chain_linear(self):
        t = tasks("user_cross_downstream.py", "cross_and_linear")
        self.assertEqual(self.deps(t["d"]), ["a", "b"])
        self.assertEqual(self.deps(t["g"]), ["e", "f"])
        self.assertEqual(self.deps(t["f"]), ["c", "d"])

    def test_two_dags_share_a_module_level_task_function(self):
        res = parsed("apache_example_xcomargs.py")
        t = dag_doc(res, "example_xcom_args_with_operators_like")["tasks"]
        self.assertEqual(self.deps(t["print_value"]), ["c"])
        self.assertEqual(self.deps(t["print_value__1"]), ["print_value"])
        self.assertEqual(self.deps(t["d"]), ["print_value__1"])

    def test_schedule_default_is_one_day(self):
        doc = dag_doc(parsed("legacy_python_operator.py"), "legacy_python_operator")
        self.assertEqual(doc["schedule"], {"__type__": "datetime.timedelta", "seconds": 86400.0})

    def test_variables_read_in_corpus(self):
        self.assertEqual(parsed("user_variables_parse_time.py")["variables_read"], ["environment", "pipeline_config"])
        self.assertEqual(parsed("mwaa_s3_glue.py")["variables_read"], ["mwaa_bucket"])


if __name__ == "__main__":
    unittest.main()
