"""import_string: a class or function from its dotted path."""
import importlib


def import_string(dotted_path):
    try:
        module_path, class_name = dotted_path.rsplit(".", 1)
    except ValueError:
        raise ImportError("%s doesn't look like a module path" % dotted_path)
    module = importlib.import_module(module_path)
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ImportError('Module "%s" does not define a "%s" attribute/class' % (module_path, class_name))


def qualname(o):
    cls = o if isinstance(o, type) else type(o)
    return cls.__module__ + "." + cls.__qualname__
