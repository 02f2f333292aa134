package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// calendarData is the calendar page: each year with runs as a grid of
// days (weeks as columns), each day coloured by its runs' states.
type calendarData struct {
	*dagPage
	Years []calendarYear
	// FailedDays lists the days with a failed run, newest first, so they
	// can be read without the colours.
	FailedDays []calendarDay
	Legend     []string
}

type calendarYear struct {
	Year  int
	Chart template.HTML
}

// calendarDay is one day's runs, counted by state.
type calendarDay struct {
	Date   time.Time
	Counts map[windsock.DagRunState]int
}

// State is the day's colour: its worst run state (failed, then running,
// queued, success), as Airflow's calendar marks a day with any failure.
func (d *calendarDay) State() string {
	for _, s := range []windsock.DagRunState{windsock.DagRunFailed, windsock.DagRunRunning, windsock.DagRunQueued, windsock.DagRunSuccess} {
		if d.Counts[s] > 0 {
			return string(s)
		}
	}
	return "none"
}

// Summary is the day's counts as text: "2024-03-05: 20 success, 4 failed".
func (d *calendarDay) Summary() string {
	var b strings.Builder
	b.WriteString(d.Date.Format(time.DateOnly))
	b.WriteString(":")
	sep := " "
	for _, s := range dagRunStates {
		if n := d.Counts[windsock.DagRunState(s)]; n > 0 {
			b.WriteString(sep + strconv.Itoa(n) + " " + s)
			sep = ", "
		}
	}
	return b.String()
}

// dagCalendar is /dags/{dag_id}/calendar.
func (s *Server) dagCalendar(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadDAG(r, "calendar")
	if err != nil {
		return err
	}
	if !p.Can.ReadRuns {
		return forbidden()
	}
	runs, err := s.Store.DagRunList(r.Context(), &store.DagRunListParams{DagID: p.DagID, DatesAndStates: true})
	if err != nil {
		return fmt.Errorf("calendar: list runs: %w", err)
	}
	days := map[time.Time]*calendarDay{}
	first, last := 0, 0
	for _, run := range runs {
		t := run.LogicalDate.UTC()
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		cd := days[day]
		if cd == nil {
			cd = &calendarDay{Date: day, Counts: map[windsock.DagRunState]int{}}
			days[day] = cd
		}
		cd.Counts[run.State]++
		if first == 0 || t.Year() < first {
			first = t.Year()
		}
		last = max(last, t.Year())
	}
	d := &calendarData{dagPage: p, Legend: []string{"success", "running", "queued", "failed"}}
	for y := last; y >= first && y > 0; y-- {
		d.Years = append(d.Years, calendarYear{Year: y, Chart: calendarChart(y, days)})
	}
	for day := range days {
		if days[day].Counts[windsock.DagRunFailed] > 0 {
			d.FailedDays = append(d.FailedDays, *days[day])
		}
	}
	slices.SortFunc(d.FailedDays, func(a, b calendarDay) int { return b.Date.Compare(a.Date) })
	return s.render(w, r, http.StatusOK, "dag_calendar", Page{Title: p.DagID + " calendar", Nav: "dags", Data: d})
}

// Calendar geometry: 12 px days with a 2 px gap, weeks from Sunday.
const (
	calCell = 12
	calStep = 14
	calLeft = 30
	calTop  = 18
)

// calendarChart draws one year: a column per week, a row per weekday.
// Failed days carry a cross and running days a dot besides their colour,
// and every day a tooltip with its counts.
func calendarChart(year int, days map[time.Time]*calendarDay) template.HTML {
	jan1 := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	offset := int(jan1.Weekday())
	weeks := (offset + daysIn(year) + 6) / 7
	width, height := calLeft+weeks*calStep+4, calTop+7*calStep+4
	var c svg
	c.raw(`<svg class="chart calendar" data-testid="calendar-year" data-year="`, strconv.Itoa(year), `" role="img" aria-labelledby="cal-title-`,
		strconv.Itoa(year), `" width="`, strconv.Itoa(width), `" height="`, strconv.Itoa(height), `" viewBox="0 0 `,
		strconv.Itoa(width), " ", strconv.Itoa(height), `"><title id="cal-title-`, strconv.Itoa(year), `">Runs per day in `, strconv.Itoa(year), `</title>`)
	for i, name := range []string{"Mon", "Wed", "Fri"} {
		c.raw(`<text class="axis-label" x="0" y="`, strconv.Itoa(calTop+(2*i+1)*calStep+10), `">`, name, `</text>`)
	}
	for m := time.January; m <= time.December; m++ {
		first := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
		week := (offset + first.YearDay() - 1) / 7
		c.raw(`<text class="axis-label" x="`, strconv.Itoa(calLeft+week*calStep), `" y="12">`, first.Format("Jan"), `</text>`)
	}
	for day := jan1; day.Year() == year; day = day.AddDate(0, 0, 1) {
		i := offset + day.YearDay() - 1
		x, y := calLeft+(i/7)*calStep, calTop+(i%7)*calStep
		date := day.Format(time.DateOnly)
		cd := days[day]
		if cd == nil {
			c.raw(`<rect class="day empty" data-date="`, date, `" x="`, strconv.Itoa(x), `" y="`, strconv.Itoa(y), `" width="`,
				strconv.Itoa(calCell), `" height="`, strconv.Itoa(calCell), `"><title>`, date, `: no runs</title></rect>`)
			continue
		}
		st := cd.State()
		c.raw(`<g class="day-runs" data-testid="calendar-day" data-date="`, date, `" data-state="`, st, `"><title>`, esc(cd.Summary()), `</title>`,
			`<rect class="day state-`, st, `" x="`, strconv.Itoa(x), `" y="`, strconv.Itoa(y), `" width="`, strconv.Itoa(calCell),
			`" height="`, strconv.Itoa(calCell), `"/>`)
		switch st {
		case "failed":
			c.raw(`<path class="day-mark" d="M`, strconv.Itoa(x+3), " ", strconv.Itoa(y+3), " L", strconv.Itoa(x+9), " ", strconv.Itoa(y+9),
				" M", strconv.Itoa(x+9), " ", strconv.Itoa(y+3), " L", strconv.Itoa(x+3), " ", strconv.Itoa(y+9), `"/>`)
		case "running", "queued":
			c.raw(`<circle class="day-mark" cx="`, strconv.Itoa(x+6), `" cy="`, strconv.Itoa(y+6), `" r="2"/>`)
		}
		c.raw(`</g>`)
	}
	c.raw(`</svg>`)
	return c.html()
}

func daysIn(year int) int {
	return time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay()
}
