"""airflow.utils.helpers: key validation and the deprecated chain aliases."""
import re

from airflow.exceptions import AirflowException

KEY_REGEX = re.compile(r"^[\w.-]+$")
GROUP_KEY_REGEX = re.compile(r"^[\w-]+$")


def validate_key(k, max_length=250):
    if not isinstance(k, str):
        raise TypeError("The key has to be a string and is %s:%s" % (type(k), k))
    if len(k) > max_length:
        raise AirflowException("The key has to be less than %d characters" % max_length)
    if not KEY_REGEX.match(k):
        raise AirflowException(
            "The key %r has to be made of alphanumeric characters, dashes, dots and underscores exclusively" % k
        )


def validate_group_key(k, max_length=200):
    if not isinstance(k, str):
        raise TypeError("The key has to be a string and is %s:%s" % (type(k), k))
    if len(k) > max_length:
        raise AirflowException("The key has to be less than %d characters" % max_length)
    if not GROUP_KEY_REGEX.match(k):
        raise AirflowException(
            "The key %r has to be made of alphanumeric characters, dashes and underscores exclusively" % k
        )


def chain(*tasks):
    from airflow.models.baseoperator import chain as _chain

    return _chain(*tasks)


def cross_downstream(*args, **kwargs):
    from airflow.models.baseoperator import cross_downstream as _cd

    return _cd(*args, **kwargs)


def merge_dicts(dict1, dict2):
    merged = dict1.copy()
    for k, v in dict2.items():
        if k in merged and isinstance(v, dict) and isinstance(merged[k], dict):
            merged[k] = merge_dicts(merged[k], v)
        else:
            merged[k] = v
    return merged


def is_container(obj):
    return hasattr(obj, "__iter__") and not isinstance(obj, str)


def as_flattened_list(iterable):
    return [e for i in iterable for e in i]


def exactly_one(*args):
    return sum(map(bool, args)) == 1


def at_most_one(*args):
    return sum(1 for a in args if a is not None and a is not False and a.__class__.__name__ != "ArgNotSet") <= 1


def render_template_as_native(template, context):
    return template.render(**context)


def parse_template_string(template_string):
    if "{{" in template_string:
        import jinja2

        return None, jinja2.Template(template_string)
    return template_string, None
