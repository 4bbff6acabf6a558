package demo_test

import (
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/demo"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

// TestShoppingTimes: the month of shopping is spread over the 30 days
// before now, mostly by day, in time order, never in the future, and the
// same for the same seed.
func TestShoppingTimes(t *testing.T) {
	customers := demo.Customers(1, 1000, now)
	events := demo.Shopping(1, customers, now)
	if !reflect.DeepEqual(events, demo.Shopping(1, customers, now)) {
		t.Error("the same seed gives other events")
	}
	if n := len(events); n < 1500 || n > 2500 {
		t.Errorf("%d events for 1000 customers; want about two each", n)
	}
	cst := time.FixedZone("CST", 8*3600)
	days := map[string]bool{}
	night := 0
	for i, e := range events {
		if e.Timestamp.After(now) || e.Timestamp.Before(now.AddDate(0, 0, -31)) {
			t.Errorf("%s at %s: not in the 31 days before %s", e.MessageID, e.Timestamp, now)
		}
		if i > 0 && e.Timestamp.Before(events[i-1].Timestamp) {
			t.Errorf("%s at %s comes after %s at %s", e.MessageID, e.Timestamp, events[i-1].MessageID, events[i-1].Timestamp)
		}
		local := e.Timestamp.In(cst)
		days[local.Format(time.DateOnly)] = true
		if h := local.Hour(); h >= 1 && h < 7 {
			night++
		}
	}
	if len(days) < 29 {
		t.Errorf("events on %d days; want them on (nearly) all of the last 30", len(days))
	}
	if night*20 > len(events) {
		t.Errorf("%d of %d events between 1 and 7 at night", night, len(events))
	}
	if got := demo.Shopping(1, customers[:3], now); len(got) == 0 {
		t.Error("no events for 3 customers")
	}
}

// TestShoppingVisits: each visit opens a page before it searches, views
// before it adds, adds what it viewed before it orders, and only a
// customer orders; the showcase customers have a history.
func TestShoppingVisits(t *testing.T) {
	customers := demo.Customers(1, 1000, now)
	rank := map[string]int{"": 0, "Products Searched": 1, "Product Viewed": 2, "Product Added": 3, "Order Completed": 4}
	type visit struct {
		rank   int
		seq    string
		viewed map[string]bool
		user   string
	}
	visits := map[string]*visit{}
	showcase := map[string]int{}
	orders := 0
	for _, e := range demo.Shopping(1, customers, now) {
		id, seq, _ := strings.Cut(strings.TrimPrefix(e.MessageID, "demo-"), "-")
		v := visits[id]
		if v == nil {
			v = &visit{viewed: map[string]bool{}, user: e.UserID}
			visits[id] = v
			if e.Type != "page" {
				t.Errorf("visit %s begins with %s", id, e.Event)
			}
		}
		r, ok := rank[e.Event]
		if !ok || r < v.rank || e.UserID != v.user {
			t.Errorf("visit %s: %s (%s) after rank %d", id, e.Event, e.UserID, v.rank)
		}
		v.rank = r
		if seq <= v.seq && v.seq != "" {
			t.Errorf("visit %s: message %s out of order", id, e.MessageID)
		}
		v.seq = seq
		switch e.Event {
		case "Product Viewed":
			v.viewed[e.Properties["product_id"].(string)] = true
		case "Product Added":
			if !v.viewed[e.Properties["product_id"].(string)] {
				t.Errorf("visit %s adds %v, which it did not view", id, e.Properties["product_id"])
			}
		case "Order Completed":
			orders++
			if e.UserID == "" {
				t.Errorf("visit %s: a visitor orders", id)
			}
		}
		if e.UserID == demo.Showcase[0].UserID || e.UserID == demo.Showcase[1].UserID {
			showcase[e.UserID]++
		}
	}
	if orders < 20 || len(showcase) != 2 {
		t.Errorf("%d orders; showcase customers' events: %v", orders, showcase)
	}
}

// TestShoppingConformsToPolicy: every event and property is declared in the
// example policy with its type, every product is one of the shop's, and a
// small share of searches carry an e-mail address or phone number.
func TestShoppingConformsToPolicy(t *testing.T) {
	p, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatalf("example policy: %v", findings)
	}
	products := map[string]demo.Product{}
	for _, pr := range demo.Products {
		products[pr.ID] = pr
	}
	personal := regexp.MustCompile(`@|\d{3}[ -]?\d{4}[ -]?\d{4}`)
	events := demo.Shopping(1, demo.Customers(1, 1000, now), now)
	searches, withPII := 0, 0
	for _, e := range events {
		name := e.Event
		if e.Type == "page" {
			name = "Page Viewed"
		}
		ev := p.Event(name)
		if ev == nil {
			t.Fatalf("%s: event %q is not declared", e.MessageID, name)
		}
		// As the collector sees it: JSON numbers.
		b, _ := json.Marshal(e)
		var m struct {
			Properties map[string]any `json:"properties"`
		}
		json.Unmarshal(b, &m)
		for k, v := range m.Properties {
			typ, ok := ev.Properties[k]
			var good bool
			switch typ {
			case "string":
				_, good = v.(string)
			case "number":
				_, good = v.(float64)
			case "integer":
				f, isNum := v.(float64)
				good = isNum && f == math.Trunc(f)
			}
			if !ok || !good {
				t.Errorf("%s %s: property %s = %v is not a declared %s", e.MessageID, name, k, v, typ)
			}
		}
		if id, ok := e.Properties["product_id"]; ok {
			pr, known := products[id.(string)]
			if !known || e.Properties["sku"] != pr.SKU || e.Properties["price"] != pr.Price || e.Properties["brand"] != pr.Brand {
				t.Errorf("%s: %v is not one of the shop's products", e.MessageID, e.Properties)
			}
		}
		if name == "Products Searched" {
			searches++
			if personal.MatchString(e.Properties["query"].(string)) {
				withPII++
			}
		}
	}
	if withPII == 0 || withPII*8 > searches {
		t.Errorf("%d of %d searches carry personal data; want a few", withPII, searches)
	}
}
