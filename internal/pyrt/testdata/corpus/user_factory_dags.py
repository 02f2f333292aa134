from datetime import datetime

from common.factory import build_ingest_dag

for source, schedule in [("crm", "0 3 * * *"), ("erp", "0 2 * * *"), ("web", "@hourly")]:
    build_ingest_dag(source, schedule, datetime(2023, 1, 1))
