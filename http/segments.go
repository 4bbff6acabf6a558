package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/segment"
)

// segmentView is a segment as the API shows it.
type segmentView struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Purpose   string          `json:"purpose"`
	Rule      json.RawMessage `json:"rule"`
	Snapshot  bool            `json:"snapshot"`
	Members   *int            `json:"members,omitempty"` // a snapshot's kept ids
	CreatedBy string          `json:"created_by"`
	CreatedAt time.Time       `json:"created_at"`
	Count     *int            `json:"count,omitempty"`
	Below     int             `json:"count_below,omitempty"`
}

func viewSegment(seg *candor.Segment) segmentView {
	v := segmentView{ID: seg.ID, Name: seg.Name, Purpose: seg.Purpose, Rule: seg.Rule, Snapshot: seg.Snapshot, CreatedBy: seg.CreatedBy, CreatedAt: seg.CreatedAt}
	if seg.Snapshot {
		n := seg.Members
		v.Members = &n
	}
	return v
}

// createSegment serves POST /v1/segments {"name","purpose","rule","snapshot"}
// → 201 {"id"}: the rule checked against the policy for the purpose and
// the caller's role (422 naming each offending path), a role without the
// purpose refused (403, audited); a snapshot keeps the people the rule
// picks now.
func (s *Server) createSegment(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in struct {
		Name     string          `json:"name"`
		Purpose  string          `json:"purpose"`
		Rule     json.RawMessage `json:"rule"`
		Snapshot bool            `json:"snapshot"`
	}
	if err := decode(w, r, 64<<10, &in); err != nil {
		return err
	}
	seg, err := s.Segments.Create(r.Context(), p.Actor, requestID(r.Context()), segment.Input{Name: in.Name, Purpose: in.Purpose, Rule: in.Rule, Snapshot: in.Snapshot})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/segments/"+seg.ID)
	out := map[string]any{"id": seg.ID}
	if seg.Snapshot {
		out["members"] = seg.Members
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// getSegment serves GET /v1/segments/{id}: the segment and its count now
// (one gate run, labelled "segment 'NAME' (count)").
func (s *Server) getSegment(w http.ResponseWriter, r *http.Request, p *principal) error {
	seg, err := s.Segments.Get(r.Context(), p.Actor, requestID(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	c, err := s.Segments.CountSegment(r.Context(), p.Actor, requestID(r.Context()), seg)
	if err != nil {
		return err
	}
	v := viewSegment(seg)
	v.Count, v.Below = c.N, c.Below
	writeJSON(w, http.StatusOK, countView{v})
	return nil
}

// countView writes "count": null when the count is hidden.
type countView struct{ segmentView }

func (c countView) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.segmentView)
	if err != nil || c.Count != nil {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["count"] = nil
	return json.Marshal(m)
}

// listSegments serves GET /v1/segments?limit=&cursor=: the saved segments
// whose purpose the caller's role may use, by id, without counts.
func (s *Server) listSegments(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return candor.Invalid("limit is a number from 1 to 200", candor.FieldError{Field: "limit", Message: "want 1 to 200"})
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !candor.ValidID(candor.PrefixSegment, cursor) {
		return candor.Invalid("cursor is the next_cursor of the page before", candor.FieldError{Field: "cursor", Message: "not a cursor"})
	}
	segs, next, err := s.Segments.List(r.Context(), p.Actor, cursor, limit)
	if err != nil {
		return err
	}
	views := make([]segmentView, len(segs))
	for i := range segs {
		views[i] = viewSegment(&segs[i])
	}
	out := map[string]any{"segments": views}
	if next != "" {
		out["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteSegment serves DELETE /v1/segments/{id} → 204.
func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := s.Segments.Delete(r.Context(), p.Actor, requestID(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// countRule serves POST /v1/segments/count {"purpose","rule","name"?}: the
// live count of an unsaved rule as the console edits it (one gate run,
// labelled "segment 'NAME' (count)" or "segment being edited (count)";
// an access report shows the runs of one label a day as one line).
func (s *Server) countRule(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in struct {
		Name    string          `json:"name"`
		Purpose string          `json:"purpose"`
		Rule    json.RawMessage `json:"rule"`
	}
	if err := decode(w, r, 64<<10, &in); err != nil {
		return err
	}
	if len(in.Name) > 400 {
		return candor.Invalid("the name is too long", candor.FieldError{Field: "name", Message: "at most 100 characters"})
	}
	c, err := s.Segments.CountRule(r.Context(), p.Actor, requestID(r.Context()), in.Purpose, in.Rule, segment.Label(in.Name, "count"))
	if err != nil {
		return err
	}
	out := map[string]any{"count": c.N}
	if c.N == nil {
		out["count_below"] = c.Below
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listSegmentPeople serves GET /v1/subjects?purpose=P&segment=ID: a page
// of the segment's people whose decision allows P now (the segment's
// purpose must be P).
func (s *Server) listSegmentPeople(w http.ResponseWriter, r *http.Request, p *principal, purpose, id, cursor string, limit int, fields []string) error {
	seg, err := s.Segments.Get(r.Context(), p.Actor, requestID(r.Context()), id)
	if err != nil {
		return err
	}
	if seg.Purpose != purpose {
		return candor.Invalid("the segment is for another purpose", candor.FieldError{Field: "segment", Message: "its purpose is " + seg.Purpose})
	}
	people := make([]*gate.Person, 0, min(limit, 100))
	next, err := s.Segments.People(r.Context(), p.Actor, requestID(r.Context()), seg, cursor, limit, fields, func(x *gate.Person) error {
		people = append(people, x)
		return nil
	})
	if err != nil {
		return err
	}
	out := map[string]any{"subjects": people, "segment": seg.ID}
	if next != "" {
		out["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
