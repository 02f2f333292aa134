"""WeightRule: how priority_weight adds up along the DAG."""
import enum


class WeightRule(str, enum.Enum):
    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"

    @classmethod
    def is_valid(cls, weight_rule):
        return weight_rule in cls.all_weight_rules()

    @classmethod
    def all_weight_rules(cls):
        return {w.value for w in cls}

    def __str__(self):
        return self.value
