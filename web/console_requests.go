package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/candorhq/candor"
)

// The request queue.

type requestsData struct {
	Requests []requestRow
}

type requestRow struct {
	candor.RightsRequest
	Overdue, Stuck bool
}

func (s *Server) consoleRequests(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	open, err := s.Rights.Open(r.Context())
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	now := s.Now()
	sort.Slice(open, func(i, j int) bool { return open[i].DueAt.Before(open[j].DueAt) })
	d := requestsData{}
	for _, q := range open {
		d.Requests = append(d.Requests, requestRow{RightsRequest: q, Overdue: q.DueAt.Before(now), Stuck: now.Sub(q.StateSince) > s.Rights.StuckAfter()})
	}
	if k := r.URL.Query().Get("done"); k != "" {
		p.Notice = text[p.Lang]["done_"+k]
	}
	p.Title, p.Data = text[p.Lang]["requests"], d
	s.render(w, r, http.StatusOK, "console-requests", p)
}

// consoleVerify records that the staff member checked the person's
// identity, which carries the request out.
func (s *Server) consoleVerify(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	if _, err := s.Rights.Verify(r.Context(), staffActor(m), r.PathValue("id")); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/requests?done=verified", http.StatusSeeOther)
}

func (s *Server) consoleRefuse(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		s.fail(w, r, "console", candor.Invalid("a refusal gives the person its reason"))
		return
	}
	if _, err := s.Rights.Refuse(r.Context(), staffActor(m), r.PathValue("id"), reason); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/requests?done=refused", http.StatusSeeOther)
}
