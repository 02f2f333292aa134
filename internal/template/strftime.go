package template

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// strftime formats t with a Python strftime format. Codes follow CPython
// on glibc, including the "-" flag that drops padding ("%-d"), because DAG
// authors copy formats from Python code running on Linux.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		pad := true
		if format[i] == '-' && i+1 < len(format) {
			pad = false
			i++
		}
		num := func(n, width int) {
			s := strconv.Itoa(n)
			if pad {
				for len(s) < width {
					s = "0" + s
				}
			}
			b.WriteString(s)
		}
		switch format[i] {
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'w':
			num(int(t.Weekday()), 1)
		case 'u':
			num((int(t.Weekday())+6)%7+1, 1)
		case 'd':
			num(t.Day(), 2)
		case 'e':
			s := strconv.Itoa(t.Day())
			if pad && len(s) < 2 {
				s = " " + s
			}
			b.WriteString(s)
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'm':
			num(int(t.Month()), 2)
		case 'y':
			num(t.Year()%100, 2)
		case 'Y':
			num(t.Year(), 4)
		case 'C':
			num(t.Year()/100, 2)
		case 'G':
			y, _ := t.ISOWeek()
			num(y, 4)
		case 'V':
			_, w := t.ISOWeek()
			num(w, 2)
		case 'H':
			num(t.Hour(), 2)
		case 'I':
			num((t.Hour()+11)%12+1, 2)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'M':
			num(t.Minute(), 2)
		case 'S':
			num(t.Second(), 2)
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			num(t.YearDay(), 3)
		case 'U':
			// Week of the year, Sunday first; days before the first Sunday are week 0.
			num((t.YearDay()+6-int(t.Weekday()))/7, 2)
		case 'W':
			num((t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2)
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		case 'x':
			b.WriteString(t.Format("01/02/06"))
		case 'X':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			// glibc leaves unknown directives as written.
			b.WriteByte('%')
			if !pad {
				b.WriteByte('-')
			}
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// strptime parses s with a Python strptime format. It supports the codes
// DAG files use with macros.ds_format and datetime.strptime; the result is
// naive (UTC) unless the format has %z.
func strptime(s, format string) (time.Time, error) {
	year, month, day := 1900, 1, 1
	var hour, minute, sec, nsec int
	pm, twelve := false, false
	loc := time.UTC
	yday := 0
	in := s
	fail := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("time data %q does not match format %q", s, format)
	}
	digits := func(max int) (int, bool) {
		n := 0
		for n < max && n < len(in) && in[n] >= '0' && in[n] <= '9' {
			n++
		}
		if n == 0 {
			return 0, false
		}
		v, _ := strconv.Atoi(in[:n])
		in = in[n:]
		return v, true
	}
	name := func(names []string) (int, bool) {
		for i, n := range names {
			for _, cand := range []string{n, n[:3]} {
				if len(in) >= len(cand) && strings.EqualFold(in[:len(cand)], cand) {
					in = in[len(cand):]
					return i, true
				}
			}
		}
		return 0, false
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == ' ' {
			// Whitespace in the format matches any run of whitespace.
			in = strings.TrimLeft(in, " \t\n")
			continue
		}
		if c != '%' || i+1 == len(format) {
			if len(in) == 0 || in[0] != c {
				return fail()
			}
			in = in[1:]
			continue
		}
		i++
		if format[i] == '-' && i+1 < len(format) {
			i++
		}
		var ok bool
		switch format[i] {
		case 'Y':
			year, ok = digits(4)
		case 'y':
			year, ok = digits(2)
			// POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068.
			if year < 69 {
				year += 2000
			} else {
				year += 1900
			}
		case 'm':
			month, ok = digits(2)
		case 'd', 'e':
			day, ok = digits(2)
		case 'H':
			hour, ok = digits(2)
		case 'I':
			hour, ok = digits(2)
			twelve = true
		case 'M':
			minute, ok = digits(2)
		case 'S':
			sec, ok = digits(2)
		case 'j':
			yday, ok = digits(3)
		case 'f':
			start := len(in)
			var frac int
			frac, ok = digits(6)
			for n := start - len(in); n < 9; n++ {
				frac *= 10
			}
			nsec = frac
		case 'b', 'B', 'h':
			var m int
			m, ok = name(monthNames)
			month = m + 1
		case 'a', 'A':
			_, ok = name(dayNames)
		case 'p':
			switch {
			case len(in) >= 2 && strings.EqualFold(in[:2], "AM"):
				ok = true
			case len(in) >= 2 && strings.EqualFold(in[:2], "PM"):
				ok, pm = true, true
			}
			if ok {
				in = in[2:]
			}
		case 'z':
			loc, ok = parseOffset(&in)
		case 'Z':
			if strings.HasPrefix(in, "UTC") || strings.HasPrefix(in, "GMT") {
				in, ok = in[3:], true
			}
		case '%':
			if len(in) > 0 && in[0] == '%' {
				in, ok = in[1:], true
			}
		default:
			return time.Time{}, fmt.Errorf("bad directive %%%c in format %q", format[i], format)
		}
		if !ok {
			return fail()
		}
	}
	if in != "" {
		return time.Time{}, fmt.Errorf("unconverted data remains: %s", in)
	}
	if twelve {
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 61 {
		return fail()
	}
	if yday > 0 {
		return time.Date(year, 1, yday, hour, minute, sec, nsec, loc), nil
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("day is out of range for month in %q", s)
	}
	return t, nil
}

// parseOffset reads a UTC offset (Z, +HHMM, +HH:MM) from the front of *in.
func parseOffset(in *string) (*time.Location, bool) {
	s := *in
	if strings.HasPrefix(s, "Z") {
		*in = s[1:]
		return time.UTC, true
	}
	if len(s) < 5 || (s[0] != '+' && s[0] != '-') {
		return nil, false
	}
	rest := s[1:]
	hh, err1 := strconv.Atoi(rest[:2])
	rest = strings.TrimPrefix(rest[2:], ":")
	if len(rest) < 2 {
		return nil, false
	}
	mm, err2 := strconv.Atoi(rest[:2])
	if err1 != nil || err2 != nil {
		return nil, false
	}
	*in = rest[2:]
	secs := hh*3600 + mm*60
	if s[0] == '-' {
		secs = -secs
	}
	if secs == 0 {
		return time.UTC, true
	}
	return time.FixedZone("", secs), true
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)
