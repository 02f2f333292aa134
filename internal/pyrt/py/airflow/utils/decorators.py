"""apply_defaults: a no-op in Airflow 2 (the operator metaclass applies default_args)."""
import warnings


def apply_defaults(func):
    warnings.warn(
        "This decorator is deprecated. \n\nIn previous versions, all subclasses of BaseOperator must use "
        "apply_default decorator for the `default_args` feature to work properly.\n\nIn current version, "
        "it is optional. The decorator is applied automatically using the metaclass.\n",
        DeprecationWarning,
        stacklevel=3,
    )
    return func


def fixup_decorator_warning_stack(func):
    return func
