"""WeekDay: the days of the week, for BranchDayOfWeekOperator and DayOfWeekSensor."""
import enum


class WeekDay(enum.IntEnum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str):
        sanitized = week_day_str.upper()
        if sanitized not in cls.__members__:
            raise AttributeError('Invalid Week Day passed: "%s"' % week_day_str)
        return cls[sanitized]

    @classmethod
    def convert(cls, day):
        if isinstance(day, WeekDay):
            return day
        return cls.get_weekday_number(day)

    @classmethod
    def validate_week_day(cls, week_day):
        if isinstance(week_day, str):
            return {cls.get_weekday_number(week_day)}
        if isinstance(week_day, WeekDay):
            return {week_day}
        if isinstance(week_day, (set, list, tuple, dict)):
            return {cls.convert(d) for d in week_day}
        raise TypeError("Unsupported Type for week_day parameter: %s." % type(week_day))
