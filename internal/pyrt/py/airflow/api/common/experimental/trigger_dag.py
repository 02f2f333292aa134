from windsock_rt import Unsupported

raise Unsupported("airflow.api.common.experimental.trigger_dag (triggering through the metadata database)",
                  "use TriggerDagRunOperator or the REST API")
