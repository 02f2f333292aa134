def safe_load(stream):
    import yaml

    return yaml.safe_load(stream)


def dump(data, **kwargs):
    import yaml

    return yaml.dump(data, **kwargs)
