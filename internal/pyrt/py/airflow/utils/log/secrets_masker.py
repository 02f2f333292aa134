"""mask_secret: values to hide in task logs (the worker masks them)."""

_secrets = set()


def mask_secret(secret, name=None):
    if isinstance(secret, str) and secret:
        _secrets.add(secret)
    elif isinstance(secret, dict):
        for v in secret.values():
            mask_secret(v)
    elif isinstance(secret, (list, tuple)):
        for v in secret:
            mask_secret(v)


def redact(value, name=None, max_depth=None):
    if isinstance(value, str):
        for s in _secrets:
            value = value.replace(s, "***")
    return value
