package dagview

import "time"

// runAxis labels the run duration bars above the grid as Airflow 2.10's
// grid does: the duration the tallest bar stands for and half of it on
// a vertical axis, and the runs' logical dates under every few bars.
type runAxis struct {
	// Max and Half label the axis; "" when no run has a duration.
	Max, Half string
	// Dates has one entry per column: the date shown under its bar, or ""
	// between labelled columns.
	Dates []string
	// Titles has each column's full logical date, for its tooltip.
	Titles []string
}

// maxDateLabels is how many dates the axis shows at most.
const maxDateLabels = 8

// newRunAxis builds the axis of columns, whose longest duration is the
// height of a full bar.
func newRunAxis(cols []Column, longest time.Duration) runAxis {
	a := runAxis{Dates: make([]string, len(cols)), Titles: make([]string, len(cols))}
	if longest > 0 {
		a.Max, a.Half = FormatDuration(longest), FormatDuration(longest/2)
	}
	if len(cols) == 0 {
		return a
	}
	layout := "Jan 02"
	if first, last := cols[0].LogicalDate, cols[len(cols)-1].LogicalDate; last.Sub(first) < 24*time.Hour && first.YearDay() == last.YearDay() {
		layout = "15:04"
	}
	every := (len(cols) + maxDateLabels - 1) / maxDateLabels
	for i, c := range cols {
		a.Titles[i] = c.LogicalDate.UTC().Format("2006-01-02 15:04:05")
		if i%every == 0 {
			a.Dates[i] = c.LogicalDate.UTC().Format(layout)
		}
	}
	return a
}
