"""LoggingMixin: a `log` property on any class."""
import logging


class LoggingMixin:
    _log = None

    @property
    def log(self):
        if self._log is None:
            self._log = logging.getLogger(type(self).__module__ + "." + type(self).__name__)
        return self._log


def remove_escape_codes(text):
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
