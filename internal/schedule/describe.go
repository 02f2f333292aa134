package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// describeCron renders a 5-field cron expression in English the way
// Airflow's timetable_description does (cron_descriptor, sentence case,
// 24-hour clock, not verbose): "At 00:00", "Every 15 minutes", "At 03:00,
// Monday through Friday". It covers numbers, "*", ranges, steps over "*" or
// a range, and lists; anything else (names, steps from a single value) is
// described by the expression itself.
func describeCron(expr string) string {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return expr
	}
	for i := range f {
		if f[i] == "?" || f[i] == "*/1" {
			f[i] = "*"
		}
		if !describable(f[i]) {
			return expr
		}
	}
	if f[4] == "7" {
		f[4] = "0"
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	d := describeTimeOfDay(minute, hour) +
		segment(dom, ", every day", itself, func(s string) string {
			if s == "1" {
				return ", every day"
			}
			return ", every " + s + " days"
		}, ", between day %s and %s of the month", ", on day %s of the month") +
		dowSegment(dow) +
		segment(month, "", monthName, func(s string) string { return ", every " + s + " months" },
			", %s through %s", ", only in %s")
	for _, noise := range []string{", every minute", ", every hour", ", every day"} {
		d = strings.ReplaceAll(d, noise, "")
	}
	d = strings.TrimSuffix(strings.TrimSuffix(d, " "), ",")
	if d == "" {
		return expr
	}
	return strings.ToUpper(d[:1]) + d[1:]
}

// describable reports whether a field uses only the forms describeCron
// handles: digits, "*", "-", ",", and "/" after "*" or a range.
func describable(field string) bool {
	for _, r := range field {
		if !strings.ContainsRune("0123456789*-,/", r) {
			return false
		}
	}
	for _, part := range strings.Split(field, ",") {
		base, _, hasStep := strings.Cut(part, "/")
		if hasStep && base != "*" && !strings.Contains(base, "-") {
			return false
		}
		if hasStep && strings.Contains(field, ",") {
			return false
		}
	}
	return true
}

func hasSpecial(field string) bool { return strings.ContainsAny(field, "/-,*") }

func describeTimeOfDay(minute, hour string) string {
	switch {
	case !hasSpecial(minute) && !hasSpecial(hour):
		return "At " + clock(hour, minute)
	case strings.Contains(minute, "-") && !strings.ContainsAny(minute, ",/") && !hasSpecial(hour):
		from, to, _ := strings.Cut(minute, "-")
		return "Every minute between " + clock(hour, from) + " and " + clock(hour, to)
	case strings.Contains(hour, ",") && !strings.ContainsAny(hour, "-/*") && !hasSpecial(minute):
		hours := strings.Split(hour, ",")
		var b strings.Builder
		b.WriteString("At")
		for i, h := range hours {
			b.WriteString(" " + clock(h, minute))
			if i < len(hours)-2 {
				b.WriteString(",")
			} else if i == len(hours)-2 {
				b.WriteString(" and")
			}
		}
		return b.String()
	}
	minutes := segment(minute, "every minute", itself,
		func(s string) string { return "every " + s + " minutes" },
		"minutes %s through %s past the hour", "at %s minutes past the hour")
	if minute == "0" {
		minutes = ""
	}
	hours := segment(hour, "every hour", func(s string) string { return clock(s, "0") },
		func(s string) string { return "every " + s + " hours" },
		"between %s and %s", "at %s")
	if minutes != "" && hours != "" {
		return minutes + ", " + hours
	}
	return minutes + hours
}

func dowSegment(dow string) string {
	if dow == "*" {
		// cron_descriptor leaves "*" to the day-of-month part.
		return ""
	}
	return segment(dow, ", every day", dayName,
		func(s string) string { return ", every " + s + " days of the week" },
		", %s through %s", ", only on %s")
}

// segment is cron_descriptor's get_segment_description for the forms
// describable accepts. between and single are fmt formats.
func segment(field, all string, item func(string) string, every func(string) string, between, single string) string {
	switch {
	case field == "*":
		return all
	case strings.Contains(field, "/"):
		base, step, _ := strings.Cut(field, "/")
		d := every(step)
		if from, to, ok := strings.Cut(base, "-"); ok {
			d += ", " + strings.TrimPrefix(fmt.Sprintf(between, item(from), rangeEnd(item(to))), ", ")
		}
		return d
	case strings.Contains(field, ","):
		parts := strings.Split(field, ",")
		var b strings.Builder
		for i, p := range parts {
			if i > 0 && len(parts) > 2 {
				b.WriteString(",")
				if i < len(parts)-1 {
					b.WriteString(" ")
				}
			}
			if i > 0 && (i == len(parts)-1 || len(parts) == 2) {
				b.WriteString(" and ")
			}
			if from, to, ok := strings.Cut(p, "-"); ok {
				b.WriteString(item(from) + " through " + rangeEnd(item(to)))
			} else {
				b.WriteString(item(p))
			}
		}
		return fmt.Sprintf(single, b.String())
	case strings.Contains(field, "-"):
		from, to, _ := strings.Cut(field, "-")
		return fmt.Sprintf(between, item(from), rangeEnd(item(to)))
	}
	return fmt.Sprintf(single, item(field))
}

// rangeEnd makes "17:00" at the end of an hour range read "17:59", as
// cron_descriptor does.
func rangeEnd(s string) string { return strings.Replace(s, ":00", ":59", 1) }

func itself(s string) string { return s }

func clock(hour, minute string) string {
	h, _ := strconv.Atoi(hour)
	m, _ := strconv.Atoi(minute)
	return fmt.Sprintf("%02d:%02d", h, m)
}

func dayName(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 7 {
		return s
	}
	return time.Weekday(n % 7).String()
}

func monthName(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 12 {
		return s
	}
	return time.Month(n).String()
}
