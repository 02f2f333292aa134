package web

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/web/dagview"
)

// The charts (Gantt, task duration, tries, landing times, calendar,
// cluster activity) are SVG written by hand, as the graph is: no
// JavaScript library, no build step. They are built as text here rather
// than through html/template because a chart of 25 runs of a 500-task DAG
// has tens of thousands of elements, and html/template's contextual
// escaping of each attribute would cost most of the page's time budget.
// Every piece of text that comes from data goes through esc; numbers are
// formatted by strconv; class names come from closed sets (states,
// series indexes).

// svg accumulates the markup of one chart.
type svg struct{ b strings.Builder }

// esc escapes s for HTML/SVG text and attribute values.
func esc(s string) string { return template.HTMLEscapeString(s) }

// num formats a coordinate with one decimal, enough for a screen.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func (c *svg) raw(parts ...string) {
	for _, p := range parts {
		c.b.WriteString(p)
	}
}

// html returns the chart; everything in it was escaped when written.
func (c *svg) html() template.HTML {
	return template.HTML(c.b.String()) //nolint:gosec // every data string went through esc
}

// timeScale maps times between from and to onto [x0, x1] pixels.
type timeScale struct {
	from, to time.Time
	x0, x1   float64
}

func (s timeScale) x(t time.Time) float64 {
	span := s.to.Sub(s.from)
	if span <= 0 {
		return s.x0
	}
	return s.x0 + (s.x1-s.x0)*float64(t.Sub(s.from))/float64(span)
}

// tickSteps are the spacings a time axis may use, smallest first.
var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// timeTicks returns round instants between from and to, at most about n of
// them, and the layout to label them with.
func timeTicks(from, to time.Time, n int) ([]time.Time, string) {
	span := to.Sub(from)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	var out []time.Time
	for t := from.UTC().Truncate(step); !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	layout := "15:04:05"
	switch {
	case step >= 24*time.Hour:
		layout = "2006-01-02"
	case span >= 24*time.Hour:
		layout = "01-02 15:04"
	case step >= time.Minute:
		layout = "15:04"
	}
	return out, layout
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten, so that an axis
// ends on a round value; 1 for zero or less.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// fmtDurationSeconds shows seconds as the UI does (HH:MM:SS), "00:00:00"
// for zero so an axis always has a label.
func fmtDurationSeconds(sec float64) string {
	if s := dagview.FormatDuration(time.Duration(sec * float64(time.Second))); s != "" {
		return s
	}
	return "00:00:00"
}
