package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// chartDays is how far back the overview's consent chart looks.
const chartDays = 30

type overviewData struct {
	Subjects      int
	Open, Overdue int
	Due           []candor.RightsRequest
	Chart         template.HTML // an SVG drawn here: no script
	Rates         []purposeRate
	Findings      []candor.MinimizationCount
	From, To      string
	Names         map[string]string
	AuditOK       bool
	AuditEntries  int64
}

type purposeRate struct {
	Purpose, Name, Color string
	Granted, Refused     int
	Rate                 string
}

var palette = []string{"#1f5fbf", "#17663a", "#b5651d", "#8e3aa8", "#b3261e", "#00796b", "#5d4037", "#455a64", "#c2185b"}

func (s *Server) consoleOverview(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	ctx := r.Context()
	now := s.Now().UTC()
	d := overviewData{To: now.Format(time.DateOnly), From: now.AddDate(0, 0, -(chartDays - 1)).Format(time.DateOnly), Names: map[string]string{}}
	view := s.Notices.Current().View(p.Lang)
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	var err error
	if d.Subjects, err = s.Store.CountSubjects(ctx); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	open, err := s.Rights.Open(ctx)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Open = len(open)
	for _, q := range open {
		if q.DueAt.Before(now) {
			d.Overdue++
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].DueAt.Before(open[j].DueAt) })
	d.Due = open[:min(5, len(open))]
	days, err := s.Store.ConsentDays(ctx, d.From, d.To)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Chart, d.Rates = consentChart(days, s.Policy, d.Names, now, p.Lang)
	mins, err := s.Store.Minimization(ctx, d.From, d.To)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Findings = topFindings(mins, 8)
	p.Title, p.Data = text[p.Lang]["overview"], d
	s.render(w, r, http.StatusOK, "console-overview", p)
}

// topFindings sums the minimization counts over days and returns the
// largest.
func topFindings(in []candor.MinimizationCount, n int) []candor.MinimizationCount {
	type key struct{ event, item, action, detector string }
	sum := map[key]int64{}
	for _, c := range in {
		sum[key{c.Event, c.Item, c.Action, c.Detector}] += c.Count
	}
	out := make([]candor.MinimizationCount, 0, len(sum))
	for k, v := range sum {
		out = append(out, candor.MinimizationCount{Event: k.event, Item: k.item, Action: k.action, Detector: k.detector, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Event+out[i].Item < out[j].Event+out[j].Item
	})
	return out[:min(n, len(out))]
}

// consentChart draws, per consent purpose, the share of the choices
// recorded each day that granted it, over the last chartDays days, as an
// SVG; days without a choice leave a gap. It returns the totals too, for
// the table beside it (which screen readers read instead).
func consentChart(days []candor.ConsentDay, pol *candor.Policy, names map[string]string, now time.Time, lang string) (template.HTML, []purposeRate) {
	const w, h, left, right, top, bottom = 720.0, 240.0, 40.0, 10.0, 10.0, 24.0
	start := now.AddDate(0, 0, -(chartDays - 1)).Format(time.DateOnly)
	index := func(day string) int {
		t, _ := time.Parse(time.DateOnly, day)
		s, _ := time.Parse(time.DateOnly, start)
		return int(t.Sub(s).Hours() / 24)
	}
	byPurpose := map[string]map[int]candor.ConsentDay{}
	for _, d := range days {
		if byPurpose[d.Purpose] == nil {
			byPurpose[d.Purpose] = map[int]candor.ConsentDay{}
		}
		byPurpose[d.Purpose][index(d.Day)] = d
	}
	x := func(i int) float64 { return left + float64(i)*(w-left-right)/float64(chartDays-1) }
	y := func(rate float64) float64 { return top + (1-rate)*(h-top-bottom) }
	var b strings.Builder
	title := map[string]string{candor.LangEN: "Consent rate per purpose, by day", candor.LangZH: "各目的每日同意率"}[lang]
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title"><title id="chart-title">%s</title>`, w, h, template.HTMLEscapeString(title))
	for _, pct := range []float64{0, .25, .5, .75, 1} {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e3e6ec"/><text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#5b6475">%.0f%%</text>`,
			left, w-right, y(pct), y(pct), left-4, y(pct)+3, pct*100)
	}
	for i := 0; i < chartDays; i += 7 {
		day := now.AddDate(0, 0, -(chartDays-1)+i).Format("01-02")
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#5b6475">%s</text>`, x(i), h-6, day)
	}
	var rates []purposeRate
	n := 0
	for _, p := range pol.Purposes {
		if !p.NeedsConsent() {
			continue
		}
		color := palette[n%len(palette)]
		n++
		pr := purposeRate{Purpose: p.ID, Name: names[p.ID], Color: color, Rate: "—"}
		type point struct{ x, y float64 }
		var seg []point
		flush := func() {
			switch {
			case len(seg) == 1:
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, seg[0].x, seg[0].y, color)
			case len(seg) > 1:
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="`, color)
				for i, pt := range seg {
					if i > 0 {
						b.WriteByte(' ')
					}
					fmt.Fprintf(&b, "%.1f,%.1f", pt.x, pt.y)
				}
				b.WriteString(`"/>`)
			}
			seg = seg[:0]
		}
		for i := 0; i < chartDays; i++ {
			d, ok := byPurpose[p.ID][i]
			if !ok || d.Granted+d.Refused == 0 {
				flush()
				continue
			}
			pr.Granted += d.Granted
			pr.Refused += d.Refused
			seg = append(seg, point{x(i), y(float64(d.Granted) / float64(d.Granted+d.Refused))})
		}
		flush()
		if t := pr.Granted + pr.Refused; t > 0 {
			pr.Rate = fmt.Sprintf("%.0f%%", 100*float64(pr.Granted)/float64(t))
		}
		rates = append(rates, pr)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), rates
}
