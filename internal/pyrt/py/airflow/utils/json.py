"""XComEncoder / XComDecoder names (JSON)."""
import json


class XComEncoder(json.JSONEncoder):
    def default(self, o):
        import datetime as dt

        if isinstance(o, (dt.datetime, dt.date)):
            return o.isoformat()
        return super().default(o)


class XComDecoder(json.JSONDecoder):
    pass
