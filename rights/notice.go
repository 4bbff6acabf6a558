package rights

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/webhook"
)

// noticeDeliveries builds one delivery per recipient that received any of
// the fields concerned (all fields when concerned is nil), from the
// sharing ledger: a [webhook.Notice] naming the fields, pending, or failed
// at once when the policy gives the recipient no webhook. Who must be told
// is the request's business; the [webhook.Notifier] only sends them.
func noticeDeliveries(pol *candor.Policy, ds []candor.Disclosure, concerned []string, event, subjectID, requestID string, at time.Time) []candor.Delivery {
	fields := map[string]map[string]bool{}
	var order []string
	for _, d := range ds {
		for _, f := range d.Fields {
			if concerned != nil && !slices.Contains(concerned, f) {
				continue
			}
			if fields[d.Recipient] == nil {
				fields[d.Recipient] = map[string]bool{}
				order = append(order, d.Recipient)
			}
			fields[d.Recipient][f] = true
		}
	}
	var out []candor.Delivery
	for _, rid := range order {
		var fs []string
		for f := range fields[rid] {
			fs = append(fs, f)
		}
		slices.Sort(fs)
		body, _ := json.Marshal(webhook.Notice{Event: event, SubjectID: subjectID, RequestID: requestID, At: at, Fields: fs})
		st := candor.DeliveryPending
		lastErr := ""
		if r := pol.Recipient(rid); r == nil || r.Webhook == "" {
			st, lastErr = candor.DeliveryFailed, "the recipient has no webhook in the policy: tell it by other means"
		}
		out = append(out, candor.Delivery{ID: candor.NewID(candor.PrefixDelivery), RequestID: requestID, Recipient: rid, Event: event, Body: body,
			Status: st, NextAt: at, LastError: lastErr, UpdatedAt: at})
	}
	return out
}
