package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Event is one call of the shop's SDK in the demo's month of shopping, in
// the shape of a Segment message, so that it can be sent as one.
type Event struct {
	MessageID   string         `json:"messageId"`
	Type        string         `json:"type"` // "page" or "track"
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"` // a visitor who did not sign in
	Event       string         `json:"event,omitempty"`       // the track call's event
	Name        string         `json:"name,omitempty"`        // the page's name
	Properties  map[string]any `json:"properties"`
	Context     map[string]any `json:"context"`
	Timestamp   time.Time      `json:"timestamp"` // when it happened, in UTC
}

// ShoppingDays is how many days before now [Shopping] spreads the visits over.
const ShoppingDays = 30

// shopZone is the shop's time zone (China Standard Time), in which its
// customers shop by day and in the evening.
var shopZone = time.FixedZone("CST", 8*3600)

// hourWeights are how busy the shop is in each hour of its day.
var hourWeights = [24]int{2, 1, 1, 0, 0, 1, 2, 4, 6, 8, 10, 10, 12, 10, 8, 8, 8, 8, 9, 12, 16, 16, 12, 6}

// productWeights are how often each of [Products] is looked at.
var productWeights = []int{4, 2, 2, 3}

// queries are what people type into the shop's search box, each with the
// product it finds (-1: none in particular).
var queries = []struct {
	q       string
	product int
}{
	{"longjing", 0}, {"green tea", 0}, {"龙井", 0}, {"西湖龙井 明前", 0},
	{"teapot", 1}, {"celadon", 1}, {"青瓷茶壶", 1},
	{"silk scarf", 2}, {"真丝围巾", 2}, {"red scarf gift", 2},
	{"bamboo steamer", 3}, {"蒸笼", 3}, {"dim sum steamer", 3},
	{"gift for mum", -1}, {"送礼", -1}, {"tea set", -1},
}

var (
	userAgents = []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	}
	referrers = []string{"", "", "https://search.example/", "https://social.example/share"}
)

// shopURL is where the demo shop's pages are, for the events' page context.
const shopURL = "https://shop.example"

// Shopping returns a month of the demo shop's visits as the shop's SDK
// would have sent them: one visit for every two customers (at least one),
// on the [ShoppingDays] days before now, spread evenly over them, at an
// hour weighted to when people shop in China. Four visits in five are by
// one of the customers (the first visits by the [Showcase] customers, so
// that they have a history to look at), the others by visitors who did not
// sign in. A visit opens a page, may search, views one to three products,
// may add one to the cart and, if it was a customer, may order it: in that
// order, seconds to minutes apart. Every product is one of [Products], and
// every property one that the example policy declares for the event;
// about one search in ten has the customer's e-mail address or phone
// number typed into it, which the collector redacts, so that the
// minimization report has something to show.
//
// The events are in time order, each before now and within 31 days of it.
// They are the same for the same seed, customers and now.
func Shopping(seed int64, customers []Customer, now time.Time) []Event {
	now = now.UTC()
	s := &shopper{r: rand.New(rand.NewPCG(uint64(seed), 0x73686f7070696e67)), now: now}
	visits := max(1, len(customers)/2)
	today := now.In(shopZone)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, shopZone)
	var out []Event
	for i := range visits {
		var c *Customer
		switch {
		case i < 2*len(Showcase) && len(customers) >= len(Showcase):
			c = &customers[i%len(Showcase)]
		case len(customers) > 0 && s.r.IntN(5) > 0:
			c = &customers[s.r.IntN(len(customers))]
		}
		day := today.AddDate(0, 0, -i*ShoppingDays/visits)
		out = s.visit(out, i, c, day)
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.Timestamp.Compare(b.Timestamp) })
	return out
}

type shopper struct {
	r   *rand.Rand
	now time.Time
}

func (s *shopper) seconds(from, to int) time.Duration {
	return time.Duration(from+s.r.IntN(to-from+1)) * time.Second
}

// weighted returns an index of weights, drawn by weight.
func (s *shopper) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := s.r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// visit appends the events of the i-th visit, by c (nil: a visitor), on
// the day that begins at day.
func (s *shopper) visit(out []Event, i int, c *Customer, day time.Time) []Event {
	r := s.r
	start := len(out)
	at := day.Add(time.Duration(s.weighted(hourWeights[:]))*time.Hour + s.seconds(0, 3599))
	ev := Event{Context: map[string]any{
		"ip":        fmt.Sprintf("203.0.113.%d", 1+r.IntN(254)),
		"userAgent": pick(r, userAgents),
		"locale":    "zh-CN",
		"timezone":  "Asia/Shanghai",
		"library":   map[string]any{"name": "candor.js", "version": "1.0.0"},
	}}
	lang := "zh-CN"
	if c != nil {
		ev.UserID = c.UserID
		if c.Name != "" && c.Name[0] < 0x80 {
			lang = "en"
			ev.Context["locale"], ev.Context["timezone"] = "en-GB", "Europe/London"
		}
	} else {
		ev.AnonymousID = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), 0x8000|r.IntN(1<<14), r.Int64N(1<<48))
	}
	referrer := pick(r, referrers)
	emit := func(typ, event, name, path, title string, props map[string]any) {
		e := ev
		e.MessageID = fmt.Sprintf("demo-%06d-%d", i, len(out)-start)
		e.Type, e.Event, e.Name, e.Properties, e.Timestamp = typ, event, name, props, at.UTC()
		page := map[string]any{"path": path, "title": title, "url": shopURL + path}
		if referrer != "" {
			page["referrer"] = referrer
		}
		e.Context = make(map[string]any, len(ev.Context)+1)
		for k, v := range ev.Context {
			e.Context[k] = v
		}
		e.Context["page"] = page
		out = append(out, e)
	}
	name := func(p Product) string {
		if n := p.Name[lang]; n != "" {
			return n
		}
		return p.Name["en"]
	}

	// The page the visit lands on, and the first product it looks at.
	first := s.weighted(productWeights)
	path, title, pageName := "/", "Demo Shop", "Home"
	switch u := r.IntN(10); {
	case u < 4:
	case u < 8:
		cat := Products[first].Category
		path, title, pageName = "/c/"+cat, cat+" | Demo Shop", cat
	default:
		p := Products[first]
		path, title, pageName = "/p/"+p.ID, name(p)+" | Demo Shop", name(p)
	}
	props := map[string]any{"name": pageName, "path": path, "title": title, "url": shopURL + path}
	if referrer != "" {
		props["referrer"] = referrer
	}
	emit("page", "", pageName, path, title, props)

	if r.IntN(100) < 35 {
		at = at.Add(s.seconds(10, 60))
		q := pick(r, queries)
		if q.product >= 0 {
			first = q.product
		}
		query := q.q
		if c != nil && r.IntN(10) == 0 {
			// Someone typed their address into the search box.
			if c.Email != "" {
				query += " " + c.Email
			} else if c.Phone != "" {
				query += " " + c.Phone
			}
		}
		emit("track", "Products Searched", "", "/search", "Search | Demo Shop", map[string]any{"query": query})
		at = at.Add(s.seconds(5, 40))
	} else {
		at = at.Add(s.seconds(5, 90))
	}

	viewed := []int{first}
	for n := []int{1, 1, 1, 1, 1, 2, 2, 2, 3, 3}[r.IntN(10)]; len(viewed) < n; {
		if p := s.weighted(productWeights); !slices.Contains(viewed, p) {
			viewed = append(viewed, p)
		}
	}
	for k, pi := range viewed {
		if k > 0 {
			at = at.Add(s.seconds(20, 180))
		}
		p := Products[pi]
		emit("track", "Product Viewed", "", "/p/"+p.ID, name(p)+" | Demo Shop", map[string]any{
			"product_id": p.ID, "sku": p.SKU, "category": p.Category, "name": name(p), "brand": p.Brand,
			"price": p.Price, "currency": "CNY"})
	}

	if r.IntN(100) >= 35 {
		return s.fit(out, start)
	}
	at = at.Add(s.seconds(10, 90))
	p := Products[viewed[r.IntN(len(viewed))]]
	qty := 1
	if r.IntN(5) == 0 {
		qty = 2
	}
	cart := fmt.Sprintf("cart-%06d", i)
	emit("track", "Product Added", "", "/p/"+p.ID, name(p)+" | Demo Shop", map[string]any{
		"cart_id": cart, "product_id": p.ID, "sku": p.SKU, "category": p.Category, "name": name(p), "brand": p.Brand,
		"price": p.Price, "currency": "CNY", "quantity": qty})

	if c == nil || r.IntN(2) == 0 {
		return s.fit(out, start)
	}
	at = at.Add(s.seconds(60, 360))
	revenue := cents(p.Price * float64(qty))
	shipping := 0.0
	if revenue < 199 {
		shipping = 12
	}
	order := map[string]any{"order_id": fmt.Sprintf("SO%08d", 10_000_000+i),
		"revenue": revenue, "shipping": shipping, "tax": 0.0, "currency": "CNY"}
	total := revenue + shipping
	if r.IntN(6) == 0 {
		order["coupon"], order["discount"] = "WELCOME10", 10.0
		total -= 10
	}
	order["total"] = cents(total)
	emit("track", "Order Completed", "", "/checkout/done", "Thank you | Demo Shop", order)
	return s.fit(out, start)
}

// fit moves a visit that would end after now (a visit of today, at an hour
// still to come) back by a day.
func (s *shopper) fit(out []Event, start int) []Event {
	if last := out[len(out)-1].Timestamp; last.After(s.now) {
		for k := start; k < len(out); k++ {
			out[k].Timestamp = out[k].Timestamp.AddDate(0, 0, -1)
		}
	}
	return out
}

func cents(x float64) float64 { return math.Round(x*100) / 100 }
