package datapipeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scheduleMapping is how the pipeline's Schedule becomes the DAG's
// schedule, start_date and end_date, and what @scheduledStartTime and
// @scheduledEndTime become in templates.
//
// Data Pipeline's instance k covers [S+kP, S+(k+1)P). A timeseries
// instance runs at the end of its interval: that is Airflow's data
// interval, so the DAG starts at S and the two times are
// data_interval_start and data_interval_end. A cron instance runs at the
// start of its interval: the DAG starts one period earlier, so the run
// whose data interval ends at S+kP is due at S+kP, and the instance's
// times are data_interval_end and data_interval_end plus a period.
type scheduleMapping struct {
	typ        string
	schedule   any // nil (manual only), a timedelta mapping, or a cron expression
	start, end *time.Time
	ss, se     string
	describe   string
	comments   []string
	period     Period
	scheduleID string
}

func (c *converter) mapSchedule() *scheduleMapping {
	typ := c.pipelineType()
	m := &scheduleMapping{typ: typ, ss: "data_interval_start", se: "data_interval_end"}
	c.checkMixedTypes(typ)
	if typ == "ondemand" {
		m.describe = "on demand (manual runs only)"
		m.comments = append(m.comments, "scheduleType ondemand: runs only when triggered, as an on-demand pipeline runs once per activation.",
			"@scheduledStartTime and @scheduledEndTime are the trigger time.")
		return m
	}
	sid := c.mainSchedule()
	sn := c.nodes[sid]
	if sn == nil {
		c.problem(Invalid, "Default", "schedule", "no activity has a schedule")
		return m
	}
	m.scheduleID = sid
	ps, _ := c.staticValue(sn.str("period"))
	p, err := ParsePeriod(ps)
	if err != nil {
		c.problem(Invalid, sid, "period", "%v", err)
		return m
	}
	m.period = p
	var start time.Time
	if sn.has("startDateTime") {
		s, _ := c.staticValue(sn.str("startDateTime"))
		start, _ = parseDateTime(s)
	} else {
		start = c.opt.Now
		m.comments = append(m.comments, fmt.Sprintf("startAt FIRST_ACTIVATION_DATE_TIME: the first interval starts at the conversion time (%s); edit start_date to activate later.", start.Format(time.RFC3339)))
	}
	last := time.Time{}
	bounded := false
	if sn.has("occurrences") {
		s, _ := c.staticValue(sn.str("occurrences"))
		n, _ := strconv.Atoi(strings.TrimSpace(s))
		last, bounded = p.AddTo(start, n-1), true
		m.comments = append(m.comments, fmt.Sprintf("occurrences %d: end_date is the start of the last interval.", n))
	} else if sn.has("endDateTime") {
		s, _ := c.staticValue(sn.str("endDateTime"))
		end, _ := parseDateTime(s)
		// endDateTime is exclusive for interval starts.
		k := 0
		for k < 1_000_000 && p.AddTo(start, k+1).Before(end) {
			k++
		}
		last, bounded = p.AddTo(start, k), true
	}
	airflowStart, airflowLast := start, last
	if typ == "cron" {
		airflowStart, airflowLast = p.AddTo(start, -1), p.AddTo(last, -1)
		m.ss = "data_interval_end"
		m.se = "data_interval_end.add(" + p.Pendulum() + ")"
		m.comments = append(m.comments, "scheduleType cron: an instance runs at the start of its interval, so start_date is one period before the",
			"pipeline's start and @scheduledStartTime is data_interval_end (each run is due at data_interval_end).")
	} else {
		m.comments = append(m.comments, "scheduleType timeseries: an instance runs at the end of its interval, which is Airflow's data interval.")
	}
	m.start = &airflowStart
	if bounded {
		m.end = &airflowLast
	}
	m.schedule, err = periodSchedule(p, airflowStart)
	if err != nil {
		c.problem(Unsupported, sid, "period", "%v", err)
		m.schedule = map[string]int{"days": 30 * p.N}
	}
	m.describe = fmt.Sprintf("%s, %s from %s", describe(p), typ, start.Format("2006-01-02T15:04:05"))
	if bounded {
		m.describe += fmt.Sprintf(" to %s (last interval start)", last.Format("2006-01-02T15:04:05"))
	}
	return m
}

// periodSchedule is the DAG schedule for a period anchored at start:
// fixed lengths become a timedelta (anchored at start_date, as Data
// Pipeline anchors at startDateTime); months and years need a cron
// expression on start's day and time.
func periodSchedule(p Period, start time.Time) (any, error) {
	if !p.Calendar() {
		return map[string]int{p.Unit + "s": p.N}, nil
	}
	if start.Second() != 0 {
		return nil, fmt.Errorf("a %s period starting at %s: cron cannot start at a second", p, start.Format(time.TimeOnly))
	}
	if start.Day() > 28 {
		return nil, fmt.Errorf("a %s period starting on day %d: months without that day would be skipped", p, start.Day())
	}
	base := fmt.Sprintf("%d %d %d", start.Minute(), start.Hour(), start.Day())
	switch {
	case p.Unit == "month" && p.N == 1:
		return base + " * *", nil
	case p.Unit == "month" && 12%p.N == 0:
		first := (int(start.Month())-1)%p.N + 1
		return fmt.Sprintf("%s %d-12/%d *", base, first, p.N), nil
	case p.Unit == "year" && p.N == 1:
		return fmt.Sprintf("%s %d *", base, int(start.Month())), nil
	}
	return nil, fmt.Errorf("a period of %s has no cron equivalent", p)
}

// mainSchedule is the Schedule most activities use; others are reported.
func (c *converter) mainSchedule() string {
	counts := map[string]int{}
	var order []string
	for _, o := range c.def.Objects {
		n := c.nodes[o.ID]
		if n == nil || c.kinds[o.ID] != kActivity {
			continue
		}
		for _, r := range n.refs("schedule") {
			if counts[r] == 0 {
				order = append(order, r)
			}
			counts[r]++
		}
	}
	best := ""
	for _, id := range order {
		if best == "" || counts[id] > counts[best] {
			best = id
		}
	}
	if best == "" {
		return ""
	}
	bp, _ := c.periodOf(c.nodes[best], "period")
	for _, id := range order {
		if id == best || c.nodes[id] == nil {
			continue
		}
		if p, _ := c.periodOf(c.nodes[id], "period"); p != bp {
			c.problem(Unsupported, id, "period", "activities on this Schedule (%s) run on %s's (%s) instead: one DAG has one schedule", p, best, bp)
		} else {
			c.problem(Warning, id, "schedule", "activities on this Schedule run on %s's start and end", best)
		}
	}
	return best
}

func (c *converter) checkMixedTypes(typ string) {
	for _, o := range c.def.Objects {
		n := c.nodes[o.ID]
		if n == nil || c.kinds[o.ID] != kActivity {
			continue
		}
		if t := strings.ToLower(n.str("scheduleType")); t != "" && t != typ {
			c.problem(Warning, o.ID, "scheduleType", "scheduleType %s differs from the pipeline's %s, which the DAG follows", t, typ)
		}
	}
}
