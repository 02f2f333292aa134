package datapipeline

import (
	"fmt"
	"strconv"
	"strings"
)

// enumFields are the fields with a fixed set of values, matched
// case-insensitively as the service does.
var enumFields = map[string][]string{
	"scheduleType":        {"cron", "timeseries", "ondemand"},
	"failureAndRerunMode": {"none", "cascade"},
}

var periodFields = []string{"retryDelay", "attemptTimeout", "lateAfterTimeout", "reportProgressTimeout", "preconditionTimeout"}

// validate reports what Data Pipeline would reject.
func (c *converter) validate() {
	ondemand := c.pipelineType() == "ondemand"
	referenced := map[string]bool{}
	for _, o := range c.def.Objects {
		if o.ID == "" || c.byID[o.ID] != o {
			continue
		}
		for _, k := range o.Order {
			for _, v := range o.Fields[k] {
				if !v.IsRef {
					continue
				}
				referenced[v.Ref] = true
				c.checkRef(o, k, v.Ref, ondemand)
			}
		}
	}
	for _, o := range c.def.Objects {
		if o.ID == "" || c.byID[o.ID] != o {
			continue
		}
		n := c.nodes[o.ID]
		if o.Type == "" {
			if o.ID != "Default" && !referenced[o.ID] {
				c.problem(Warning, o.ID, "type", "object has no type and nothing refers to it as a parent: ignored (it is not Default)")
			}
			continue
		}
		k := c.kinds[o.ID]
		if k == kUnknown {
			c.problem(Unsupported, o.ID, "type", "unknown object type %q", o.Type)
			continue
		}
		for f, allowed := range enumFields {
			if v := n.str(f); v != "" && !containsFold(allowed, v) {
				c.problem(Invalid, o.ID, f, "%q is not one of %s", v, strings.Join(allowed, ", "))
			}
		}
		switch k {
		case kActivity, kDataNode, kPrecondition:
			c.checkRunnable(n, k, ondemand)
		case kSchedule:
			c.checkSchedule(n)
		}
		c.checkRequired(n)
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (c *converter) checkRef(o *Object, field, ref string, ondemand bool) {
	target, ok := c.byID[ref]
	if !ok {
		if field == "schedule" && ondemand {
			c.problem(Warning, o.ID, field, "refers to %q, which does not exist; ignored since the pipeline is on demand", ref)
			return
		}
		c.problem(Invalid, o.ID, field, "refers to %q, which does not exist", ref)
		return
	}
	want, typed := refKinds[field]
	if !typed || target.Type == "" {
		return
	}
	got := c.kinds[ref]
	for _, w := range want {
		if got == w {
			return
		}
	}
	if got != kUnknown {
		c.problem(Invalid, o.ID, field, "refers to %q, which is %s (%s), not %s", ref, kindName(got), target.Type, kindName(want[0]))
	}
}

// pipelineType is the schedule type most activities use (normally set
// once, on Default), lower-cased; "cron" when unset, the service default.
func (c *converter) pipelineType() string {
	counts := map[string]int{}
	for _, o := range c.def.Objects {
		if n := c.nodes[o.ID]; n != nil && c.kinds[o.ID] == kActivity {
			counts[strings.ToLower(n.str("scheduleType"))]++
		}
	}
	if len(counts) == 0 {
		if d := c.nodes["Default"]; d != nil {
			return strings.ToLower(d.str("scheduleType"))
		}
	}
	best, n := "", -1
	for _, t := range []string{"cron", "timeseries", "ondemand", ""} {
		if counts[t] > n {
			best, n = t, counts[t]
		}
	}
	if best == "" {
		best = "cron"
	}
	return best
}

func (c *converter) checkRunnable(n *node, k kind, ondemand bool) {
	if k == kActivity {
		if !n.has("runsOn") && !n.has("workerGroup") {
			c.problem(Invalid, n.ID, "runsOn", "activity needs runsOn or workerGroup (on itself or inherited from Default)")
		}
		if !ondemand && !n.has("schedule") {
			c.problem(Invalid, n.ID, "schedule", "activity has no schedule (on itself or inherited from Default) and the pipeline is not on demand")
		}
	}
	if v := n.str("maximumRetries"); v != "" {
		if i, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || i < 0 {
			c.problem(Invalid, n.ID, "maximumRetries", "%q is not a non-negative integer", v)
		} else if i > 5 && k == kActivity {
			c.problem(Warning, n.ID, "maximumRetries", "%d retries is above Data Pipeline's limit of 5; kept", i)
		}
	}
	if v := n.str("maxActiveInstances"); v != "" {
		if i, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || i < 1 || i > 5 {
			c.problem(Invalid, n.ID, "maxActiveInstances", "%q is not an integer from 1 to 5", v)
		}
	}
	for _, f := range periodFields {
		if v := n.str(f); v != "" {
			s, err := c.staticValue(v)
			if err == nil {
				_, err = ParsePeriod(s)
			}
			if err != nil {
				c.problem(Invalid, n.ID, f, "%v", err)
			}
		}
	}
}

// checkSchedule applies the Schedule object's rules.
func (c *converter) checkSchedule(n *node) {
	period, err := c.staticValue(n.str("period"))
	switch {
	case !n.has("period"):
		c.problem(Invalid, n.ID, "period", "a Schedule needs a period")
	case err != nil:
		c.problem(Invalid, n.ID, "period", "%v", err)
	default:
		if p, err := ParsePeriod(period); err != nil {
			if !strings.EqualFold(period, "ONDEMAND_PERIOD") {
				c.problem(Invalid, n.ID, "period", "%v", err)
			}
		} else if p.Duration() < 15*60e9 {
			c.problem(Invalid, n.ID, "period", "%s is shorter than Data Pipeline's minimum of 15 minutes", p)
		}
	}
	hasStart, hasAt := n.has("startDateTime"), n.has("startAt")
	switch {
	case hasStart && hasAt:
		c.problem(Warning, n.ID, "startAt", "both startDateTime and startAt are set; startDateTime is used")
	case !hasStart && !hasAt:
		c.problem(Invalid, n.ID, "startDateTime", "a Schedule needs startDateTime or startAt")
	}
	var start string
	if hasStart {
		if s, err := c.staticValue(n.str("startDateTime")); err != nil {
			c.problem(Invalid, n.ID, "startDateTime", "%v", err)
		} else if _, err := parseDateTime(s); err != nil {
			c.problem(Invalid, n.ID, "startDateTime", "%v", err)
		} else {
			start = s
		}
	} else if at := n.str("startAt"); !strings.EqualFold(at, "FIRST_ACTIVATION_DATE_TIME") && !strings.EqualFold(at, "ONDEMAND_ACTIVATION_TIME") {
		c.problem(Invalid, n.ID, "startAt", "%q is not FIRST_ACTIVATION_DATE_TIME", at)
	}
	if n.has("occurrences") && n.has("endDateTime") {
		c.problem(Invalid, n.ID, "occurrences", "a Schedule cannot have both occurrences and endDateTime")
	}
	if v := n.str("occurrences"); n.has("occurrences") {
		s, err := c.staticValue(v)
		if i, aerr := strconv.Atoi(strings.TrimSpace(s)); err != nil || aerr != nil || i < 1 {
			c.problem(Invalid, n.ID, "occurrences", "%q is not a positive integer", v)
		}
	}
	if n.has("endDateTime") {
		s, err := c.staticValue(n.str("endDateTime"))
		end, perr := parseDateTime(s)
		switch {
		case err != nil:
			c.problem(Invalid, n.ID, "endDateTime", "%v", err)
		case perr != nil:
			c.problem(Invalid, n.ID, "endDateTime", "%v", perr)
		case start != "":
			if st, _ := parseDateTime(start); !end.After(st) {
				c.problem(Invalid, n.ID, "endDateTime", "endDateTime %s is not after startDateTime %s", s, start)
			}
		}
	}
}

// required are fields each type must have (after inheritance); a list
// entry "a|b" means exactly one of a and b.
var required = map[string][]string{
	"ShellCommandActivity":     {"command|scriptUri"},
	"SqlActivity":              {"database", "script|scriptUri"},
	"HadoopActivity":           {"jarUri"},
	"RedshiftCopyActivity":     {"insertMode"},
	"SqlDataNode":              {"table"},
	"MySqlDataNode":            {"table"},
	"DynamoDBDataNode":         {"tableName"},
	"RedshiftDataNode":         {"database", "tableName"},
	"S3KeyExists":              {"s3Key"},
	"S3PrefixNotEmpty":         {"s3Prefix"},
	"DynamoDBTableExists":      {"tableName"},
	"DynamoDBDataExists":       {"tableName"},
	"ShellCommandPrecondition": {"command|scriptUri"},
	"JdbcDatabase":             {"connectionString", "jdbcDriverClass", "username", "*password"},
	"RdsDatabase":              {"rdsInstanceId", "username", "*password"},
	"RedshiftDatabase":         {"username", "*password", "clusterId|connectionString"},
	"SnsAlarm":                 {"topicArn", "subject", "message"},
	"Schedule":                 {},
	"HiveActivity":             {"hiveScript|scriptUri"},
	"PigActivity":              {"script|scriptUri"},
}

func (c *converter) checkRequired(n *node) {
	for _, r := range required[n.Type] {
		alts := strings.Split(r, "|")
		set := 0
		for _, a := range alts {
			if n.has(a) {
				set++
			}
		}
		switch {
		case set == 0 && len(alts) == 1:
			c.problem(Invalid, n.ID, alts[0], "%s needs %s", n.Type, alts[0])
		case set == 0:
			c.problem(Invalid, n.ID, alts[0], "%s needs one of %s", n.Type, strings.Join(alts, ", "))
		case set > 1:
			c.problem(Invalid, n.ID, alts[1], "%s takes only one of %s", n.Type, strings.Join(alts, ", "))
		}
	}
	if n.Type == "RedshiftCopyActivity" {
		if m := n.str("insertMode"); m != "" && !containsFold([]string{"KEEP_EXISTING", "OVERWRITE_EXISTING", "TRUNCATE", "APPEND"}, m) {
			c.problem(Invalid, n.ID, "insertMode", "%q is not KEEP_EXISTING, OVERWRITE_EXISTING, TRUNCATE or APPEND", m)
		}
	}
	if n.Type == "S3DataNode" && n.has("filePath") && n.has("directoryPath") {
		c.problem(Invalid, n.ID, "directoryPath", "S3DataNode takes only one of filePath, directoryPath")
	}
}

// periodOf reads a period field at conversion time; ok is false when the
// field is unset.
func (c *converter) periodOf(n *node, field string) (Period, bool) {
	v := n.str(field)
	if v == "" {
		return Period{}, false
	}
	s, err := c.staticValue(v)
	if err != nil {
		return Period{}, false
	}
	p, err := ParsePeriod(s)
	return p, err == nil
}

// intOf reads an integer field; ok is false when unset or not a number.
func intOf(n *node, field string) (int, bool) {
	i, err := strconv.Atoi(strings.TrimSpace(n.str(field)))
	return i, err == nil
}

func describe(p Period) string { return fmt.Sprintf("every %s", p) }
