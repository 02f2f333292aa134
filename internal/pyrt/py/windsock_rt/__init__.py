"""Windsock's Python runtime: the pieces a parse or task child runs around
the user's DAG file (see notes in pyspec: parse, execute, rpc)."""


class Unsupported(ImportError):
    """A feature Windsock refuses on purpose (direct metadata-database access,
    SubDagOperator, ...). It is an ImportError so a file using it fails to load
    with a message naming the feature, as an unavailable module would."""

    def __init__(self, feature, hint=""):
        msg = "%s is not supported by Windsock" % feature
        if hint:
            msg += ": " + hint
        super().__init__(msg)
        self.feature = feature
