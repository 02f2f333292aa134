package datapipeline

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// typ is what a translated expression evaluates to, as far as the
// translator can tell: Data Pipeline's + concatenates when either side is
// a string and adds otherwise, and / truncates between integers.
type typ int

const (
	tAny typ = iota
	tStr
	tInt
	tFloat
	tDate
)

// scope is what names in an expression refer to: obj's fields, and for
// actions and preconditions the object they belong to (node.).
type scope struct {
	obj   *node
	owner *node
	depth int
}

// site is the object and field being translated, for the report.
type site struct{ obj, field string }

// paramInfo is one parameter as the translator sees it.
type paramInfo struct {
	p      *Parameter
	values []string // nil when no value was given
	used   bool
}

// translator turns #{...} expressions into Jinja over the run's data
// interval. Scheduled times are Jinja expressions chosen per schedule
// type (see schedule.go).
type translator struct {
	nodes  map[string]*node
	params map[string]*paramInfo
	// ss and se are @scheduledStartTime and @scheduledEndTime.
	ss, se string
	// fail reports an expression that cannot be translated.
	fail func(at site, msg string)
	// secrets are the Variables that encrypted values come from.
	secrets map[string]string
}

// maxInline bounds field references followed through other fields, so a
// field that refers to itself cannot loop.
const maxInline = 8

var jinjaOpen = strings.NewReplacer("{{", "{{ '{{' }}", "{%", "{{ '{%' }}", "{#", "{{ '{#' }}")

// piece is part of a translated field: literal text or a Jinja
// expression.
type piece struct {
	text  string
	jinja bool
}

// pieces translates a field value into literal text and Jinja
// expressions. ok is false when an expression could not be translated
// (already reported); its source is then kept as literal text.
func (t *translator) pieces(s string, sc scope, at site) ([]piece, bool) {
	segs, err := splitExpressions(s)
	if err != nil {
		t.fail(at, err.Error())
		return []piece{{text: s}}, false
	}
	out := make([]piece, 0, len(segs))
	ok := true
	for _, sg := range segs {
		if !sg.isEx {
			out = append(out, piece{text: sg.lit})
			continue
		}
		j, ty, err := t.compileSource(sg.expr, sc)
		if err != nil {
			t.fail(at, fmt.Sprintf("expression #{%s}: %v", sg.expr, err))
			ok = false
			out = append(out, piece{text: "#{" + sg.expr + "}"})
			continue
		}
		if ty == tDate {
			// Data Pipeline prints a DateTime as 2024-01-31T00:00:00.
			j = paren(j) + ".strftime('%Y-%m-%dT%H:%M:%S')"
		}
		if lit, isLit := unquote(j); isLit {
			out = append(out, piece{text: lit})
			continue
		}
		out = append(out, piece{text: j, jinja: true})
	}
	return out, ok
}

// unquote returns the text of a Jinja string literal made by quote, so a
// reference to a plain field is written as its text, not as Jinja.
func unquote(j string) (string, bool) {
	if len(j) < 2 || j[0] != '\'' || j[len(j)-1] != '\'' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(j)-1; i++ {
		c := j[i]
		switch {
		case c == '\\' && i+1 < len(j)-1:
			i++
			b.WriteByte(map[byte]byte{'n': '\n', 'r': '\r', 't': '\t'}[j[i]] | nonEscape(j[i]))
		case c == '\'':
			return "", false // two literals joined by ~
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func nonEscape(c byte) byte {
	switch c {
	case 'n', 'r', 't':
		return 0
	}
	return c
}

// template translates a field value into a Jinja template.
func (t *translator) template(s string, sc scope, at site) (string, bool) {
	ps, ok := t.pieces(s, sc, at)
	return joinTemplate(ps), ok
}

func joinTemplate(ps []piece) string {
	var b strings.Builder
	for _, p := range ps {
		if p.jinja {
			b.WriteString("{{ " + p.text + " }}")
		} else {
			b.WriteString(jinjaOpen.Replace(p.text))
		}
	}
	return b.String()
}

// HasExpressions says s holds a #{...} expression.
func hasExpressions(s string) bool { return strings.Contains(s, "#{") }

func (t *translator) compileSource(src string, sc scope) (string, typ, error) {
	e, err := parseExpr(src)
	if err != nil {
		return "", tAny, err
	}
	return t.compile(e, sc)
}

// valueExpr translates a whole field value into one Jinja expression, for
// a reference to that field from another expression.
func (t *translator) valueExpr(s string, sc scope) (string, typ, error) {
	if sc.depth > maxInline {
		return "", tAny, fmt.Errorf("field references nest more than %d deep (a field refers to itself?)", maxInline)
	}
	sc.depth++
	segs, err := splitExpressions(s)
	if err != nil {
		return "", tAny, err
	}
	if len(segs) == 0 {
		return "''", tStr, nil
	}
	if len(segs) == 1 && !segs[0].isEx {
		return literal(segs[0].lit)
	}
	if len(segs) == 1 {
		return t.compileSource(segs[0].expr, sc)
	}
	parts := make([]string, 0, len(segs))
	for _, sg := range segs {
		if !sg.isEx {
			parts = append(parts, quote(sg.lit))
			continue
		}
		j, _, err := t.compileSource(sg.expr, sc)
		if err != nil {
			return "", tAny, err
		}
		parts = append(parts, paren(j))
	}
	return strings.Join(parts, " ~ "), tStr, nil
}

var plainNumber = regexp.MustCompile(`^-?(0|[1-9]\d*)(\.\d+)?$`)

// literal is a field's plain text as a Jinja literal: numbers stay numbers
// so arithmetic on them works as in Data Pipeline.
func literal(s string) (string, typ, error) {
	if m := plainNumber.FindStringSubmatch(s); m != nil {
		if m[2] != "" {
			return s, tFloat, nil
		}
		return s, tInt, nil
	}
	return quote(s), tStr, nil
}

// quote is s as a single-quoted Jinja string.
func quote(s string) string { return "'" + jinjaString.Replace(s) + "'" }

var jinjaString = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

var simpleJinja = regexp.MustCompile(`^[A-Za-z_][\w.]*(\([^()]*\))?(\.[\w]+(\([^()]*\))?)*$`)

// paren wraps j in parentheses unless it is a name, literal or call chain.
func paren(j string) string {
	if simpleJinja.MatchString(j) || plainNumber.MatchString(j) || strings.HasPrefix(j, "'") && strings.Count(j, "'") == 2 {
		return j
	}
	return "(" + j + ")"
}

func (t *translator) compile(e *expr, sc scope) (string, typ, error) {
	switch e.kind {
	case eNum:
		if strings.Contains(e.text, ".") {
			return e.text, tFloat, nil
		}
		return e.text, tInt, nil
	case eStr:
		return quote(e.text), tStr, nil
	case eRef:
		return t.ref(e.parts, sc)
	case eNeg:
		j, ty, err := t.compile(e.args[0], sc)
		return "-" + paren(j), ty, err
	case eBin:
		return t.binary(e, sc)
	case eCall:
		return t.call(e, sc)
	}
	return "", tAny, fmt.Errorf("unsupported expression")
}

func (t *translator) binary(e *expr, sc scope) (string, typ, error) {
	l, lt, err := t.compile(e.args[0], sc)
	if err != nil {
		return "", tAny, err
	}
	r, rt, err := t.compile(e.args[1], sc)
	if err != nil {
		return "", tAny, err
	}
	if lt == tDate || rt == tDate {
		return "", tAny, fmt.Errorf("%q on a date-time: use plusDays, minusHours and the like", e.text)
	}
	num := func() typ {
		if lt == tFloat || rt == tFloat {
			return tFloat
		}
		if lt == tInt && rt == tInt {
			return tInt
		}
		return tAny
	}
	l, r = paren(l), paren(r)
	switch e.text {
	case "+":
		if lt == tStr || rt == tStr || lt == tAny && rt == tAny {
			return l + " ~ " + r, tStr, nil
		}
		return l + " + " + r, num(), nil
	case "/":
		if lt == tInt && rt == tInt {
			return l + " // " + r, tInt, nil
		}
		return l + " / " + r, tFloat, nil
	case "^":
		return l + " ** " + r + " * 1.0", tFloat, nil
	}
	return l + " " + e.text + " " + r, num(), nil
}

// runtime maps the @ fields an instance has at run time.
func (t *translator) runtime(name string) (string, typ, error) {
	switch name {
	case "@scheduledStartTime":
		return t.ss, tDate, nil
	case "@scheduledEndTime":
		return t.se, tDate, nil
	case "@actualStartTime":
		return "ti.start_date", tDate, nil
	case "@actualEndTime":
		// The try is still running while its templates render: the
		// nearest value is now.
		return "macros.datetime.utcnow()", tDate, nil
	case "@pipelineId":
		return "dag.dag_id", tStr, nil
	case "@id":
		return "task_instance_key_str", tStr, nil
	case "@attemptCount", "@triesLeft":
		return "ti.try_number", tInt, nil
	}
	return "", tAny, fmt.Errorf("runtime field %s has no equivalent in a Windsock run", name)
}

func (t *translator) ref(parts []string, sc scope) (string, typ, error) {
	first := parts[0]
	switch {
	case first == "node":
		if sc.owner == nil {
			return "", tAny, fmt.Errorf("node. is only meaningful in an action (SnsAlarm) or a precondition")
		}
		if len(parts) == 1 {
			return quote(sc.owner.ID), tStr, nil
		}
		return t.ref(parts[1:], scope{obj: sc.owner, owner: sc.owner, depth: sc.depth})
	case strings.HasPrefix(first, "@"):
		if len(parts) > 1 {
			return "", tAny, fmt.Errorf("runtime field %s has no fields", first)
		}
		return t.runtime(first)
	case first == "parent" && len(parts) == 2 && parts[1] == "@id":
		return quote(sc.obj.ID), tStr, nil
	}
	if vs, ok := sc.obj.fields[first]; ok && len(vs) > 0 {
		if len(parts) > 1 {
			if !vs[0].IsRef {
				return "", tAny, fmt.Errorf("field %s of %s is not a reference, so %s has no fields", first, sc.obj.ID, first)
			}
			target := t.nodes[vs[0].Ref]
			if target == nil {
				return "", tAny, fmt.Errorf("%s refers to %q, which does not exist", first, vs[0].Ref)
			}
			return t.ref(parts[1:], scope{obj: target, owner: sc.owner, depth: sc.depth})
		}
		if vs[0].IsRef {
			return quote(vs[0].Ref), tStr, nil
		}
		if strings.HasPrefix(first, "*") {
			return t.secret(sc.obj.ID+"_"+strings.TrimPrefix(first, "*"), "field "+first+" of "+sc.obj.ID), tStr, nil
		}
		if len(vs) > 1 {
			strs := make([]string, len(vs))
			for i, v := range vs {
				strs[i] = v.Str
			}
			return t.valueExpr(strings.Join(strs, ","), scope{obj: sc.obj, owner: sc.owner, depth: sc.depth})
		}
		return t.valueExpr(vs[0].Str, scope{obj: sc.obj, owner: sc.owner, depth: sc.depth})
	}
	if len(parts) == 1 {
		switch first {
		case "id":
			return quote(sc.obj.ID), tStr, nil
		case "name":
			return quote(sc.obj.Name), tStr, nil
		case "type":
			return quote(sc.obj.Type), tStr, nil
		}
	}
	if p := t.params[strings.TrimPrefix(first, "*")]; p != nil && len(parts) == 1 {
		return t.param(p, sc)
	}
	if len(parts) > 1 {
		return "", tAny, fmt.Errorf("%s is not a field of %s", first, sc.obj.ID)
	}
	return "", tAny, fmt.Errorf("%s is neither a parameter nor a field of %s", first, sc.obj.ID)
}

// secret names the Variable an encrypted value is read from at run time:
// secrets never go into the DAG file.
func (t *translator) secret(name, what string) string {
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	t.secrets[name] = what
	return "var.value." + name
}

func (t *translator) param(p *paramInfo, sc scope) (string, typ, error) {
	p.used = true
	if strings.HasPrefix(p.p.ID, "*") {
		return t.secret(strings.TrimPrefix(p.p.ID, "*"), "parameter "+p.p.ID), tStr, nil
	}
	ty := tStr
	switch strings.ToLower(p.p.Type) {
	case "integer":
		ty = tInt
	case "double":
		ty = tFloat
	}
	if p.values == nil {
		return "params." + p.p.ID, ty, nil
	}
	v := strings.Join(p.values, ",")
	if hasExpressions(v) {
		return t.valueExpr(v, sc)
	}
	if ty != tStr {
		if j, lt, _ := literal(v); lt != tStr {
			return j, lt, nil
		}
	}
	return quote(v), tStr, nil
}

var dateUnits = map[string]string{
	"Minutes": "minutes", "Hours": "hours", "Days": "days", "Weeks": "weeks", "Months": "months", "Years": "years",
}

func (t *translator) call(e *expr, sc scope) (string, typ, error) {
	args := make([]string, len(e.args))
	types := make([]typ, len(e.args))
	for i, a := range e.args {
		j, ty, err := t.compile(a, sc)
		if err != nil {
			return "", tAny, err
		}
		args[i], types[i] = j, ty
	}
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d arguments, got %d", e.text, n, len(args))
		}
		return nil
	}
	name := e.text
	for _, pre := range []string{"plus", "minus"} {
		if unit, ok := dateUnits[strings.TrimPrefix(name, pre)]; ok && strings.HasPrefix(name, pre) {
			if err := want(2); err != nil {
				return "", tAny, err
			}
			m := map[string]string{"plus": "add", "minus": "subtract"}[pre]
			return paren(args[0]) + "." + m + "(" + unit + "=" + args[1] + ")", tDate, nil
		}
	}
	switch name {
	case "format":
		if err := want(2); err != nil {
			return "", tAny, err
		}
		if e.args[1].kind != eStr {
			return "", tAny, fmt.Errorf("format's pattern must be a quoted string")
		}
		pat, err := jodaToStrftime(e.args[1].text)
		if err != nil {
			return "", tAny, err
		}
		return paren(args[0]) + ".strftime(" + quote(pat) + ")", tStr, nil
	case "plusPeriod", "minusPeriod":
		if err := want(2); err != nil {
			return "", tAny, err
		}
		if e.args[1].kind != eStr {
			return "", tAny, fmt.Errorf("%s's period must be a quoted string such as '1 day'", name)
		}
		per, err := ParsePeriod(e.args[1].text)
		if err != nil {
			return "", tAny, err
		}
		m := map[string]string{"plusPeriod": "add", "minusPeriod": "subtract"}[name]
		return paren(args[0]) + "." + m + "(" + per.Pendulum() + ")", tDate, nil
	case "midnight", "firstOfMonth", "yesterday", "sunday", "year", "month", "day", "hour", "minute", "dayOfYear":
		if err := want(1); err != nil {
			return "", tAny, err
		}
		d := paren(args[0])
		switch name {
		case "midnight":
			return d + ".start_of('day')", tDate, nil
		case "firstOfMonth":
			return d + ".start_of('month')", tDate, nil
		case "yesterday":
			return d + ".subtract(days=1)", tDate, nil
		case "sunday":
			return d + ".subtract(days=" + d + ".isoweekday() % 7)", tDate, nil
		case "dayOfYear":
			return d + ".day_of_year", tInt, nil
		}
		return d + "." + name, tInt, nil
	case "makeDate", "makeDateTime":
		n := map[string]int{"makeDate": 3, "makeDateTime": 5}[name]
		if err := want(n); err != nil {
			return "", tAny, err
		}
		return "macros.datetime(" + strings.Join(args, ", ") + ")", tDate, nil
	case "inTimeZone":
		if err := want(2); err != nil {
			return "", tAny, err
		}
		return paren(args[0]) + ".in_timezone(" + args[1] + ")", tDate, nil
	}
	return "", tAny, fmt.Errorf("unknown function %s", name)
}

// jodaToStrftime translates a Joda-Time DateTimeFormat pattern (what
// format() takes) into a strftime format.
func jodaToStrftime(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				return "", fmt.Errorf("unterminated quote in format pattern %q", p)
			}
			if j == 0 {
				b.WriteByte('\'')
			} else {
				b.WriteString(strings.ReplaceAll(p[i+1:i+1+j], "%", "%%"))
			}
			i += j + 2
			continue
		}
		if !isLetter(c) {
			if c == '%' {
				b.WriteString("%%")
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		i += n
		dir, err := jodaField(c, n)
		if err != nil {
			return "", fmt.Errorf("format pattern %q: %w", p, err)
		}
		b.WriteString(dir)
	}
	return b.String(), nil
}

func jodaField(c byte, n int) (string, error) {
	pick := func(short, long string) string {
		if n >= 2 {
			return long
		}
		return short
	}
	switch c {
	case 'y', 'Y', 'x':
		if n == 2 {
			return "%y", nil
		}
		return "%Y", nil
	case 'M':
		switch {
		case n >= 4:
			return "%B", nil
		case n == 3:
			return "%b", nil
		}
		return pick("%-m", "%m"), nil
	case 'd':
		return pick("%-d", "%d"), nil
	case 'D':
		return "%j", nil
	case 'H':
		return pick("%-H", "%H"), nil
	case 'h':
		return pick("%-I", "%I"), nil
	case 'm':
		return pick("%-M", "%M"), nil
	case 's':
		return pick("%-S", "%S"), nil
	case 'S':
		return "%f", nil
	case 'a':
		return "%p", nil
	case 'E':
		if n >= 4 {
			return "%A", nil
		}
		return "%a", nil
	case 'e':
		return "%u", nil
	case 'z':
		return "%Z", nil
	case 'Z':
		return "%z", nil
	}
	return "", fmt.Errorf("pattern letter %q (%s) has no strftime equivalent", c, strconv.Itoa(n))
}

// Translate translates one field value into a Jinja template for a
// pipeline of the given schedule type (cron, timeseries, ondemand) and
// period, with params as known parameter values. It is the translator
// the converter uses, for tests and tools.
func Translate(s, scheduleType string, period Period, params map[string]string) (string, error) {
	ps := map[string]*paramInfo{}
	for k, v := range params {
		ps[strings.TrimPrefix(k, "*")] = &paramInfo{p: &Parameter{ID: k, Type: "String"}, values: []string{v}}
	}
	var failed error
	tr := &translator{nodes: map[string]*node{}, params: ps, secrets: map[string]string{},
		ss: "data_interval_start", se: "data_interval_end",
		fail: func(_ site, msg string) {
			if failed == nil {
				failed = errors.New(msg)
			}
		}}
	if strings.EqualFold(scheduleType, "cron") {
		tr.ss, tr.se = "data_interval_end", "data_interval_end.add("+period.Pendulum()+")"
	}
	self := &node{Object: &Object{ID: "self", Fields: map[string][]Value{}}, fields: map[string][]Value{}}
	out, _ := tr.template(s, scope{obj: self}, site{"self", "value"})
	return out, failed
}
