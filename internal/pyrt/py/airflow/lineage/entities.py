"""Lineage entities DAG files pass as inlets/outlets."""


class File:
    template_fields = ("url",)

    def __init__(self, url, type_hint=None):
        self.url = url
        self.type_hint = type_hint


class User:
    def __init__(self, email, first_name=None, last_name=None):
        self.email, self.first_name, self.last_name = email, first_name, last_name


class Column:
    def __init__(self, name, description=None, data_type=None, tags=None):
        self.name, self.description, self.data_type, self.tags = name, description, data_type, tags or []


class Table:
    template_fields = ("database", "cluster", "name")

    def __init__(self, database, cluster, name, tags=None, description=None, columns=None, owners=None,
                 extra=None):
        self.database, self.cluster, self.name = database, cluster, name
        self.tags, self.description, self.columns = tags or [], description, columns or []
        self.owners, self.extra = owners or [], extra or {}
