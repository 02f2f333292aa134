"""airflow.api.common.trigger_dag is refused on purpose: use TriggerDagRunOperator."""
from windsock_rt import Unsupported

raise Unsupported("airflow.api.common.trigger_dag (triggering through the metadata database)",
                  "use TriggerDagRunOperator or the REST API")
