class BaseSecretsBackend:
    def __init__(self, **kwargs):
        pass

    def get_conn_value(self, conn_id):
        return None

    def get_variable(self, key):
        return None

    def get_config(self, key):
        return None
