class BaseTrigger:
    def __init__(self, **kwargs):
        self.trigger_id = None

    def serialize(self):
        return type(self).__module__ + "." + type(self).__qualname__, {}


class TriggerEvent:
    def __init__(self, payload):
        self.payload = payload
