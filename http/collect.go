package http

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/gate"
)

// readBody reads a request body of at most limit bytes (after gzip, when
// the body is compressed): ETOOLARGE beyond it, EMALFORMED when it is not
// JSON, EINVALID when it is not valid Unicode text.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "text/plain") {
			return nil, &candor.Error{Code: candor.EMALFORMED, Message: "the body must be JSON (Content-Type: application/json)"}
		}
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, candor.Errorf(candor.EMALFORMED, "the body is not valid gzip")
		}
		defer zr.Close()
		body = io.LimitReader(zr, limit+1)
	default:
		return nil, candor.Errorf(candor.EMALFORMED, "unsupported Content-Encoding; send gzip or nothing")
	}
	b, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, candor.Errorf(candor.ETOOLARGE, "the body is larger than %d bytes", limit)
	case err != nil:
		return nil, candor.Errorf(candor.EMALFORMED, "the body could not be read")
	case int64(len(b)) > limit:
		return nil, candor.Errorf(candor.ETOOLARGE, "the body is larger than %d bytes", limit)
	case len(b) == 0:
		return nil, candor.Errorf(candor.EMALFORMED, "the body is empty; JSON expected")
	}
	if err := checkText(b); err != nil {
		return nil, err
	}
	return b, nil
}

// signals reads the privacy signals a request carries.
func signals(r *http.Request) collect.Signals {
	return collect.Signals{
		GPC:       strings.TrimSpace(r.Header.Get("Sec-GPC")) == "1",
		DNT:       strings.TrimSpace(r.Header.Get("DNT")) == "1",
		RequestID: requestID(r.Context()),
	}
}

// collectOne serves POST /v1/track, /page, /screen, /identify, /group and
// /alias: one message, refused as a whole when it is not valid.
func (s *Server) collectOne(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *principal) error {
		body, err := readBody(w, r, collect.MaxMessageBytes)
		if err != nil {
			return err
		}
		if !json.Valid(body) {
			return candor.Errorf(candor.EMALFORMED, "the body is not valid JSON")
		}
		res, err := s.Collector.Collect(r.Context(), p.Actor, collect.Call{Type: typ, Messages: []json.RawMessage{body}}, signals(r))
		if err != nil {
			return err
		}
		if len(res.Errors) > 0 {
			e := res.Errors[0]
			return &candor.Error{Code: e.Code, Message: e.Message}
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
		return nil
	}
}

// collectBatch serves POST /v1/batch: the good messages are stored, the bad
// ones reported by index.
func (s *Server) collectBatch(w http.ResponseWriter, r *http.Request, p *principal) error {
	body, err := readBody(w, r, collect.MaxBatchBytes)
	if err != nil {
		return err
	}
	msgs, sentAt, ctx, err := collect.ParseBatch(body)
	if err != nil {
		return &candor.Error{Code: candor.EMALFORMED, Message: err.Error()}
	}
	if len(msgs) == 0 {
		return candor.Invalid("the batch is empty", candor.FieldError{Field: "batch", Message: "empty"})
	}
	res, err := s.Collector.Collect(r.Context(), p.Actor, collect.Call{Messages: msgs, SentAt: sentAt, Context: ctx}, signals(r))
	if err != nil {
		return err
	}
	errs := res.Errors
	if errs == nil {
		errs = []collect.ItemError{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "accepted": res.Accepted, "errors": errs})
	return nil
}

// profile serves GET /v1/subjects/{id}/profile?purpose=P: the traits
// declared for the purpose and aggregates of the events collected for it,
// through the gate.
func (s *Server) profile(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	purpose := r.URL.Query().Get("purpose")
	if purpose == "" {
		return candor.Invalid("purpose is required: every read names why", candor.FieldError{Field: "purpose", Message: "required"})
	}
	if !candor.ValidID(candor.PrefixSubject, id) {
		return candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	res, err := s.Gate.Read(r.Context(), gate.ReadRequest{Actor: p.Actor, Purpose: purpose, SubjectID: id, Events: true, RequestID: requestID(r.Context())})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": res.SubjectID, "purpose": res.Purpose, "traits": res.Fields, "masked": res.Masked,
		"withheld": res.Withheld, "events": res.Events, "decision": res.Decision})
	return nil
}

// minimizationReport serves GET /v1/reports/minimization?from=&to=: what
// collection dropped, redacted, truncated and reduced, by day, event, item
// and detector, and how many events were kept only as anonymous counts.
func (s *Server) minimizationReport(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := r.URL.Query()
	to := s.Now().UTC()
	from := to.AddDate(0, 0, -29)
	var err error
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.DateOnly, v); err != nil {
			return candor.Invalid("to: want a date as YYYY-MM-DD", candor.FieldError{Field: "to", Message: "not a date"})
		}
	}
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.DateOnly, v); err != nil {
			return candor.Invalid("from: want a date as YYYY-MM-DD", candor.FieldError{Field: "from", Message: "not a date"})
		}
	} else if q.Get("to") != "" {
		from = to.AddDate(0, 0, -29)
	}
	if from.After(to) || to.Sub(from) > 366*24*time.Hour {
		return candor.Invalid("from must not be after to, and the range at most a year", candor.FieldError{Field: "from", Message: "out of range"})
	}
	s.Collector.FlushCounters(r.Context())
	f, t := from.Format(time.DateOnly), to.Format(time.DateOnly)
	rows, err := s.Store.Minimization(r.Context(), f, t)
	if err != nil {
		return err
	}
	anon, err := s.Store.AnonymousCounts(r.Context(), f, t)
	if err != nil {
		return err
	}
	type finding struct {
		Day      string `json:"day"`
		Event    string `json:"event"`
		Item     string `json:"item"`
		Action   string `json:"action"`
		Detector string `json:"detector,omitempty"`
		Count    int64  `json:"count"`
	}
	type total struct {
		Event    string `json:"event"`
		Item     string `json:"item"`
		Action   string `json:"action"`
		Detector string `json:"detector,omitempty"`
		Count    int64  `json:"count"`
	}
	findings := make([]finding, 0, len(rows))
	totals := map[total]int64{}
	for _, c := range rows {
		findings = append(findings, finding{c.Day, c.Event, c.Item, c.Action, c.Detector, c.Count})
		totals[total{Event: c.Event, Item: c.Item, Action: c.Action, Detector: c.Detector}] += c.Count
	}
	sum := make([]total, 0, len(totals))
	for k, n := range totals {
		k.Count = n
		sum = append(sum, k)
	}
	sort.Slice(sum, func(i, j int) bool {
		a, b := sum[i], sum[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Event+a.Item+a.Action+a.Detector < b.Event+b.Item+b.Action+b.Detector
	})
	type count struct {
		Day   string `json:"day"`
		Event string `json:"event"`
		Count int64  `json:"count"`
	}
	anonymous := make([]count, 0, len(anon))
	for _, c := range anon {
		anonymous = append(anonymous, count{c.Day, c.Name, c.Count})
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": f, "to": t, "totals": sum, "by_day": findings, "anonymous_counts": anonymous})
	return nil
}
