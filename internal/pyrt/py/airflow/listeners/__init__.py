"""Listeners (pluggy hooks) are not called by Windsock; hookimpl is accepted."""


def hookimpl(f=None, **kwargs):
    if f is None:
        return lambda fn: fn
    return f
