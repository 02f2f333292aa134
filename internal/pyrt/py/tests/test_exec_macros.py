"""airflow.macros: the helpers templates reach as {{ macros.x }}."""
import os
import sys
import unittest
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from airflow import macros  # noqa: E402


class MacrosTest(unittest.TestCase):
    def test_ds_add(self):
        self.assertEqual(macros.ds_add("2015-01-01", 5), "2015-01-06")
        self.assertEqual(macros.ds_add("2015-01-06", -5), "2015-01-01")
        self.assertEqual(macros.ds_add("2015-01-06", 0), "2015-01-06")
        self.assertEqual(macros.ds_add("2024-02-28", 1), "2024-02-29")

    def test_ds_format(self):
        self.assertEqual(macros.ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y"), "01-01-15")
        self.assertEqual(macros.ds_format("1/5/2015", "%m/%d/%Y", "%Y-%m-%d"), "2015-01-05")

    def test_ds_format_locale(self):
        try:
            import babel  # noqa: F401
        except ImportError:
            self.skipTest("babel is not installed")
        self.assertEqual(macros.ds_format_locale("1/5/2015", "%m/%d/%Y", "EEEE dd MMMM yyyy", "en_US"),
                         "Monday 05 January 2015")

    def test_modules_and_classes(self):
        self.assertIs(macros.datetime, datetime)
        self.assertIs(macros.timedelta, timedelta)
        self.assertTrue(0 <= macros.random() < 1)
        self.assertEqual(len(str(macros.uuid.uuid4())), 36)
        self.assertEqual(macros.json.loads('{"a": 1}'), {"a": 1})
        self.assertIsInstance(macros.time.time(), float)
        rd = macros.dateutil.relativedelta.relativedelta(months=1)
        self.assertEqual(datetime(2024, 1, 31) + rd, datetime(2024, 2, 29))
        self.assertEqual(macros.dateutil.parser.parse("2024-03-01").day, 1)

    def test_datetime_diff_for_humans(self):
        base = datetime(2024, 1, 10, tzinfo=timezone.utc)
        self.assertEqual(macros.datetime_diff_for_humans(base - timedelta(days=2), base), "2 days before")
        self.assertEqual(macros.datetime_diff_for_humans(base + timedelta(hours=3), base), "3 hours after")
        self.assertEqual(macros.datetime_diff_for_humans(datetime.now(timezone.utc) - timedelta(days=365 * 2)), "2 years ago")

    def test_datetime_diff_for_humans_without_pendulum(self):
        base = datetime(2024, 1, 10, tzinfo=timezone.utc)
        self.assertEqual(macros._diff_for_humans(base - timedelta(days=2), base), "2 days before")
        self.assertEqual(macros._diff_for_humans(base + timedelta(hours=3), base), "3 hours after")
        self.assertEqual(macros._diff_for_humans(datetime.now(timezone.utc) - timedelta(minutes=5), None), "5 minutes ago")
        self.assertEqual(macros._diff_for_humans(datetime.now(timezone.utc) + timedelta(days=8, minutes=1), None), "in 1 week")


if __name__ == "__main__":
    unittest.main()
