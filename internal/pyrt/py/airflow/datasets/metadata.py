"""Metadata: yielded by a task to attach extra to a dataset event (2.10)."""


class Metadata:
    def __init__(self, target, extra, alias=None):
        self.uri = getattr(target, "uri", target)
        self.extra = extra
        self.alias_name = getattr(alias, "name", alias)
