"""XCom values: Airflow's JSON with serde's typed form for what JSON lacks."""
import dataclasses
import datetime
import decimal
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from windsock_rt import xcom  # noqa: E402


class XComCodecTest(unittest.TestCase):
    def test_plain_json_unchanged(self):
        v = {"a": [1, 2.5, "x", None, True], "b": {"c": 1}}
        self.assertEqual(xcom.encode(v), v)
        self.assertEqual(xcom.decode(xcom.encode(v)), v)
        # a float stays a float on the wire
        self.assertEqual(json.dumps(xcom.encode(1.0)), "1.0")

    def test_datetime_as_airflow_writes_it(self):
        import pendulum
        dt = pendulum.datetime(2024, 1, 1, tz="UTC")
        enc = xcom.encode(dt)
        # pendulum 2's UTC is a FixedTimezone, pendulum 3's a Timezone; Airflow
        # writes the class it finds.
        tzclass = "pendulum.tz.timezone." + type(dt.tzinfo).__name__
        self.assertEqual(enc, {
            "__classname__": "pendulum.datetime.DateTime", "__version__": 2,
            "__data__": {"timestamp": 1704067200.0, "tz": {
                "__classname__": "builtins.tuple", "__version__": 1,
                "__data__": ["UTC", tzclass, 1, True]}}})
        back = xcom.decode(json.loads(json.dumps(enc)))
        self.assertEqual(back, dt)
        self.assertEqual(back.tzinfo.name, "UTC")

    def test_stdlib_datetime_and_friends_round_trip(self):
        values = [
            datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
            datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            datetime.date(2024, 5, 6),
            datetime.timedelta(minutes=90),
            (1, "a", (2, 3)),
            {1, 2},
            frozenset({"x"}),
            decimal.Decimal("1.5"),
            decimal.Decimal("7"),
        ]
        for v in values:
            with self.subTest(v=v):
                enc = json.loads(json.dumps(xcom.encode(v)))
                self.assertEqual(xcom.decode(enc), v)
                self.assertEqual(type(xcom.decode(enc)), type(v))
        self.assertEqual(xcom.encode(datetime.timedelta(seconds=5)),
                         {"__classname__": "datetime.timedelta", "__version__": 2, "__data__": 5.0})

    def test_dataclass_encoded_as_its_fields(self):
        @dataclasses.dataclass
        class Point:
            x: int
            y: int
        enc = xcom.encode(Point(1, 2))
        self.assertEqual(enc["__data__"], {"x": 1, "y": 2})
        self.assertTrue(enc["__classname__"].endswith("Point"))

    def test_not_serializable(self):
        class Thing:
            pass
        with self.assertRaises(xcom.NotSerializable) as cm:
            xcom.encode({"k": [Thing()]})
        self.assertIn("cannot serialize object of type", str(cm.exception))
        self.assertIn("Thing", str(cm.exception))
        with self.assertRaises(xcom.NotSerializable):
            xcom.encode(float("nan"))


if __name__ == "__main__":
    unittest.main()
