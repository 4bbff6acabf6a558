package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// sdkBudget is the most candor.js and candor.css may weigh together,
// gzipped: the banner must not slow a shop's page down.
const sdkBudget = 15 << 10

func demoServer(t *testing.T) *testServer {
	t.Helper()
	return startServer(t, t.TempDir(), "", func(c *Config) { c.Demo, c.DemoSize = true, 20 })
}

// TestSDKServedWithinBudget: the SDK is served as JavaScript (and its CSS as
// CSS) and weighs less than the budget, gzipped.
func TestSDKServedWithinBudget(t *testing.T) {
	s := demoServer(t)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	for _, f := range []struct{ path, ctype string }{{"/sdk/candor.js", "javascript"}, {"/sdk/candor.css", "text/css"}} {
		code, body, h := s.do("GET", f.path, "", nil)
		if code != 200 {
			t.Fatalf("GET %s: %d", f.path, code)
		}
		if ct := h.Get("Content-Type"); !strings.Contains(ct, f.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", f.path, ct, f.ctype)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", f.path)
		}
		zw.Write(body)
	}
	zw.Close()
	if gz.Len() > sdkBudget {
		t.Errorf("candor.js + candor.css: %d bytes gzipped, budget %d", gz.Len(), sdkBudget)
	}
	t.Logf("candor.js + candor.css: %d bytes gzipped (budget %d)", gz.Len(), sdkBudget)
}

// TestDemoPageHasNoInlineCode: every script of /demo has a src, and there are
// no inline styles or event handlers, so the page works under its CSP.
func TestDemoPageHasNoInlineCode(t *testing.T) {
	s := demoServer(t)
	for _, lang := range []string{"en", "zh-CN"} {
		code, body, h := s.do("GET", "/demo?lang="+lang, "", nil)
		if code != 200 {
			t.Fatalf("GET /demo: %d", code)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP: %q", csp)
		}
		dec := xml.NewDecoder(bytes.NewReader(body))
		dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
		scripts, inScript := 0, false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("parsing /demo: %v", err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				name := strings.ToLower(tok.Name.Local)
				src := ""
				for _, a := range tok.Attr {
					an := strings.ToLower(a.Name.Local)
					switch {
					case an == "src":
						src = a.Value
					case an == "style":
						t.Errorf("<%s style=%q>: inline style", name, a.Value)
					case strings.HasPrefix(an, "on"):
						t.Errorf("<%s %s=…>: inline event handler", name, an)
					case (an == "href" || an == "src" || an == "action") && strings.HasPrefix(strings.ToLower(a.Value), "javascript:"):
						t.Errorf("<%s %s=%q>: javascript: URL", name, an, a.Value)
					}
				}
				switch name {
				case "script":
					scripts++
					inScript = true
					if src == "" {
						t.Errorf("a <script> without src")
					}
				case "style":
					t.Error("a <style> element")
				}
			case xml.CharData:
				if inScript && strings.TrimSpace(string(tok)) != "" {
					t.Errorf("inline script: %.60s", tok)
				}
			case xml.EndElement:
				if strings.ToLower(tok.Name.Local) == "script" {
					inScript = false
				}
			}
		}
		if scripts != 2 {
			t.Errorf("%d scripts, want candor.js and shop.js", scripts)
		}
		key, _ := os.ReadFile(filepath.Join(s.dir, "data", "demo-sdk-key"))
		if !bytes.Contains(body, []byte(`data-key="`+strings.TrimSpace(string(key))+`"`)) {
			t.Error("the page does not give the SDK the demo's key")
		}
	}
}

// noticePurpose is what the tests need of a purpose in the notice.
type noticePurpose struct {
	ID              string `json:"id"`
	NeedsConsent    bool   `json:"needs_consent"`
	SeparateConsent bool   `json:"separate_consent"`
	GPC             string `json:"gpc"`
}

// banner drives the demo shop in a browser against the real server.
type banner struct {
	s        *testServer
	browser  context.Context
	purposes []noticePurpose // those that need consent
}

func (b *banner) consentPurposes(separate bool) []string {
	var out []string
	for _, p := range b.purposes {
		if p.SeparateConsent == separate {
			out = append(out, p.ID)
		}
	}
	return out
}

// open loads the demo shop in a new visitor's tab and waits for the banner.
func (b *banner) open(t *testing.T, lang string, gpc bool) context.Context {
	t.Helper()
	tab := testenv.Tab(t, b.browser)
	// Record any CSP violation (an inline style or script the page tried).
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));`,
	}); err != nil {
		t.Fatal(err)
	}
	if gpc {
		testenv.EnableGPC(t, tab)
	}
	b.do(t, tab, chromedp.Navigate(b.s.base+"/demo?lang="+lang))
	b.waitDialog(t, tab)
	t.Cleanup(func() {
		if v, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.__csp || []`)); err == nil && len(v) > 0 {
			t.Errorf("CSP violations: %v", v)
		}
	})
	return tab
}

func (b *banner) do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func poll(t *testing.T, tab context.Context, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

func (b *banner) waitDialog(t *testing.T, tab context.Context) {
	t.Helper()
	poll(t, tab, `(() => { const r = document.querySelector('.candor-root'); return r && !r.hidden && document.activeElement && r.contains(document.activeElement); })()`)
}

func (b *banner) waitClosed(t *testing.T, tab context.Context) {
	t.Helper()
	poll(t, tab, `document.querySelector('.candor-root[hidden]') !== null`)
}

// decided waits for the choice to be recorded and returns the subject id.
func (b *banner) decided(t *testing.T, tab context.Context) string {
	t.Helper()
	b.waitClosed(t, tab)
	poll(t, tab, `candor.consent().decided && !!candor.consent().subject_id`)
	return eval[string](t, tab, `candor.consent().subject_id`)
}

func (b *banner) click(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	b.do(t, tab, chromedp.Click(chromedp.CSS(sel)))
}

// toggle switches a purpose's checkbox as a keyboard user does (focus,
// Space) and waits until it shows the change. A mouse click lands at the
// coordinates the box had when they were read: while the dialog is still
// laid out on a loaded machine, that can be another element (the choice
// then went to the server unswitched: an intermittent failure).
func (b *banner) toggle(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	q := "document.querySelector(" + strconv.Quote(sel) + ")"
	was := eval[bool](t, tab, q+".checked")
	b.do(t, tab, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(" "))
	poll(t, tab, fmt.Sprintf("%s.checked === %v", q, !was))
}

// ledger is what the server holds of a subject's consent.
type ledger struct {
	State map[string]struct {
		Allow bool   `json:"allow"`
		Code  string `json:"code"`
	} `json:"state"`
	History []struct {
		ReceiptID string `json:"receipt_id"`
		Purpose   string `json:"purpose"`
		State     string `json:"state"`
		Channel   string `json:"channel"`
		GPC       bool   `json:"gpc"`
		Explicit  bool   `json:"explicit"`
	} `json:"history"`
}

func (b *banner) ledger(t *testing.T, subject string) ledger {
	t.Helper()
	code, body, _ := b.s.do("GET", "/v1/subjects/"+subject+"/consents", b.s.admin, nil)
	if code != 200 {
		t.Fatalf("GET consents: %d %s", code, body)
	}
	var l ledger
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// want checks that the server's current state is exactly granted for the
// purposes named and refused for every other consent purpose, and that the
// last save recorded every consent purpose explicitly over the web channel.
func (b *banner) want(t *testing.T, subject string, granted ...string) ledger {
	t.Helper()
	l := b.ledger(t, subject)
	for _, p := range b.purposes {
		st, ok := l.State[p.ID]
		if !ok {
			t.Errorf("%s: no state", p.ID)
			continue
		}
		if want := slices.Contains(granted, p.ID); st.Allow != want {
			t.Errorf("%s: allow %v (%s), want %v", p.ID, st.Allow, st.Code, want)
		}
	}
	if len(l.History) == 0 {
		t.Fatal("no consent history")
	}
	last := l.History[len(l.History)-1].ReceiptID
	recorded := map[string]bool{}
	for _, h := range l.History {
		if h.ReceiptID != last {
			continue
		}
		recorded[h.Purpose] = true
		if h.Channel != "web" || !h.Explicit {
			t.Errorf("%s: channel %q explicit %v, want web and explicit", h.Purpose, h.Channel, h.Explicit)
		}
	}
	for _, p := range b.purposes {
		if !recorded[p.ID] {
			t.Errorf("the last save did not record %s explicitly", p.ID)
		}
	}
	return l
}

func TestBannerInBrowser(t *testing.T) {
	browser := testenv.Browser(t)
	s := demoServer(t)
	var notice struct {
		Purposes []noticePurpose `json:"purposes"`
	}
	code, body, _ := s.do("GET", "/v1/notice?lang=en", "", nil)
	if code != 200 || json.Unmarshal(body, &notice) != nil {
		t.Fatalf("notice: %d %s", code, body)
	}
	b := &banner{s: s, browser: browser}
	for _, p := range notice.Purposes {
		if p.NeedsConsent {
			b.purposes = append(b.purposes, p)
		}
	}
	if len(b.consentPurposes(true)) == 0 || len(b.consentPurposes(false)) == 0 {
		t.Fatalf("the demo policy should have separate and ordinary consent purposes: %+v", b.purposes)
	}

	t.Run("accept all grants all but the separate consents", func(t *testing.T) {
		tab := b.open(t, "en", false)
		testenv.Screenshot(t, tab, "banner-en")
		// Reject all is exactly as prominent as Accept all.
		same := eval[string](t, tab, `(() => {
			const a = document.getElementById('candor-accept'), r = document.getElementById('candor-reject');
			const sa = getComputedStyle(a), sr = getComputedStyle(r), ba = a.getBoundingClientRect(), br = r.getBoundingClientRect();
			const diff = [];
			if (a.tagName !== r.tagName || a.className !== r.className) diff.push('element ' + a.tagName + '.' + a.className + ' vs ' + r.tagName + '.' + r.className);
			for (const p of ['backgroundColor', 'color', 'fontSize', 'fontWeight', 'borderTopWidth', 'borderTopColor', 'paddingTop', 'paddingLeft'])
				if (sa[p] !== sr[p]) diff.push(p + ' ' + sa[p] + ' vs ' + sr[p]);
			if (Math.abs(ba.width - br.width) > 1 || Math.abs(ba.height - br.height) > 1) diff.push('size ' + ba.width + 'x' + ba.height + ' vs ' + br.width + 'x' + br.height);
			return diff.join('; ');
		})()`)
		if same != "" {
			t.Errorf("Reject all and Accept all differ: %s", same)
		}
		// The dialog: labelled, modal, every consent purpose a labelled
		// switch that is off, the separate ones apart, the recipients named.
		info := eval[map[string]any](t, tab, `(() => {
			const d = document.querySelector('.candor-dialog');
			const inputs = [...d.querySelectorAll('input[data-purpose]')];
			return {
				role: d.getAttribute('role'), modal: d.getAttribute('aria-modal'),
				title: document.getElementById(d.getAttribute('aria-labelledby')).textContent,
				switches: inputs.map(i => i.dataset.purpose),
				checked: inputs.filter(i => i.checked).map(i => i.dataset.purpose),
				unlabelled: inputs.filter(i => !i.labels.length || !i.labels[0].textContent.trim()).map(i => i.dataset.purpose),
				separate: [...document.querySelectorAll('#candor-separate input[data-purpose]')].map(i => i.dataset.purpose),
				text: d.textContent,
				portal: d.querySelector('a.candor-portal').href,
			};
		})()`)
		if info["role"] != "dialog" || info["modal"] != "true" || !strings.Contains(fmt.Sprint(info["title"]), "Demo Shop") {
			t.Errorf("dialog: role %v aria-modal %v title %v", info["role"], info["modal"], info["title"])
		}
		if got, want := strings.Fields(fmt.Sprint(info["switches"])), len(b.purposes); len(got) != want {
			t.Errorf("switches %v, want one per consent purpose (%d)", info["switches"], want)
		}
		if fmt.Sprint(info["checked"]) != "[]" || fmt.Sprint(info["unlabelled"]) != "[]" {
			t.Errorf("switched on in advance: %v; without a label: %v", info["checked"], info["unlabelled"])
		}
		if got, want := fmt.Sprint(info["separate"]), fmt.Sprint(b.consentPurposes(true)); got != want {
			t.Errorf("separate section: %s, want %s", got, want)
		}
		text := fmt.Sprint(info["text"])
		for _, want := range []string{"Global Parcel Pte. Ltd.", "Singapore", "Cross-border", "Postal address", "Delivery outside mainland China",
			"ACME Advertising", "Age range", "Always on", "Necessary to perform a contract", "never switches them on", "Reject all", "Save choices"} {
			if !strings.Contains(text, want) {
				t.Errorf("the banner does not say %q", want)
			}
		}
		if p := fmt.Sprint(info["portal"]); p != s.base+"/privacy?lang=en" {
			t.Errorf("portal link %s", p)
		}
		// A first banner does not close with Escape: a choice is needed.
		b.do(t, tab, chromedp.KeyEvent(kb.Escape))
		b.waitDialog(t, tab)

		b.click(t, tab, "#candor-accept")
		id := b.decided(t, tab)
		b.want(t, id, b.consentPurposes(false)...)
		// The page view shop.js sent before the notice loaded waited in the
		// queue for the choice, and went with analytics allowed.
		poll(t, tab, `candor.stats().sent === 1 && candor.stats().queued === 0`)
		if ls := eval[string](t, tab, `localStorage.getItem('candor.consent')`); !strings.Contains(ls, id) {
			t.Errorf("the choice is not kept in localStorage: %s", ls)
		}
		// Reloaded, the page does not ask again.
		b.do(t, tab, chromedp.Navigate(s.base+"/demo?lang=en"))
		poll(t, tab, `window.candor && candor.consent().decided`)
		if open := eval[bool](t, tab, `!!document.querySelector('.candor-root:not([hidden])')`); open {
			t.Error("the banner shows again after a choice for the same notice")
		}
		testenv.Screenshot(t, tab, "demo-shop")
	})

	t.Run("reject all refuses every purpose", func(t *testing.T) {
		tab := b.open(t, "en", false)
		b.click(t, tab, "#candor-reject")
		b.want(t, b.decided(t, tab))
	})

	t.Run("a shop on another origin uses the SDK with one script tag", func(t *testing.T) {
		key, err := os.ReadFile(filepath.Join(s.dir, "data", "demo-sdk-key"))
		if err != nil {
			t.Fatal(err)
		}
		shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Another shop</title></head><body><h1>Another shop</h1>
<script src="%s/sdk/candor.js" data-key="%s"></script></body></html>`, s.base, strings.TrimSpace(string(key)))
		}))
		defer shop.Close()
		shopURL := strings.Replace(shop.URL, "127.0.0.1", "localhost", 1) // another origin than the API's 127.0.0.1
		tab := testenv.Tab(t, b.browser)
		b.do(t, tab, chromedp.Navigate(shopURL))
		b.waitDialog(t, tab)
		b.click(t, tab, "#candor-reject")
		b.want(t, b.decided(t, tab))
	})

	t.Run("granular choices are recorded exactly", func(t *testing.T) {
		tab := b.open(t, "en", false)
		chosen := []string{"personalization", "marketing.sms", "allergy.alerts"} // allergy.alerts is a separate consent
		for _, p := range chosen {
			b.toggle(t, tab, `input[data-purpose="`+p+`"]`)
		}
		b.click(t, tab, "#candor-save")
		b.want(t, b.decided(t, tab), chosen...)
	})

	t.Run("accept all does not switch on a separate consent, but its own switch does", func(t *testing.T) {
		tab := b.open(t, "en", false)
		b.toggle(t, tab, `input[data-purpose="delivery.international"]`)
		b.click(t, tab, "#candor-accept")
		b.want(t, b.decided(t, tab), append(b.consentPurposes(false), "delivery.international")...)
	})

	t.Run("GPC refuses sharing without asking", func(t *testing.T) {
		tab := b.open(t, "en", true)
		st := eval[map[string]any](t, tab, `(() => {
			const i = document.querySelector('input[data-purpose="sharing.ads"]');
			return {gpc: navigator.globalPrivacyControl, disabled: i.disabled, checked: i.checked,
				why: i.getAttribute('aria-describedby').split(' ').map(id => document.getElementById(id).textContent).join(' ')};
		})()`)
		if st["gpc"] != true || st["disabled"] != true || st["checked"] != false || !strings.Contains(fmt.Sprint(st["why"]), "Global Privacy Control") {
			t.Errorf("sharing.ads under GPC: %v", st)
		}
		// Even a script that switches it on and saves does not grant it.
		eval[any](t, tab, `document.querySelector('input[data-purpose="sharing.ads"]').checked = true`)
		b.click(t, tab, "#candor-accept")
		id := b.decided(t, tab)
		l := b.want(t, id, b.consentPurposes(false)...)
		n := 0
		for _, h := range l.History {
			if h.Purpose == "sharing.ads" {
				n++
				if !h.GPC || h.State == "granted" {
					t.Errorf("sharing.ads entry: %+v, want refused with gpc", h)
				}
			}
		}
		if n == 0 {
			t.Error("no ledger entry for sharing.ads")
		}
		if c := eval[bool](t, tab, `candor.consent().gpc && candor.consent().choices['sharing.ads'] === false`); !c {
			t.Error("candor.consent() does not show the GPC refusal")
		}
	})

	t.Run("preferences change a choice", func(t *testing.T) {
		tab := b.open(t, "en", false)
		b.click(t, tab, "#candor-reject")
		id := b.decided(t, tab)
		// The footer link reopens the dialog with the current choices.
		b.click(t, tab, "#open-preferences")
		b.waitDialog(t, tab)
		if title := eval[string](t, tab, `document.getElementById('candor-title').textContent`); title != "Privacy preferences" {
			t.Errorf("title %q", title)
		}
		testenv.Screenshot(t, tab, "preferences")
		// Escape closes the preferences and gives the focus back.
		b.do(t, tab, chromedp.KeyEvent(kb.Escape))
		b.waitClosed(t, tab)
		if f := eval[string](t, tab, `document.activeElement.id`); f != "open-preferences" {
			t.Errorf("focus after Escape on %q, want the link that opened the dialog", f)
		}
		eval[any](t, tab, `candor.openPreferences()`)
		b.waitDialog(t, tab)
		if on := eval[int](t, tab, `document.querySelectorAll('input[data-purpose]:checked').length`); on != 0 {
			t.Errorf("%d switches on after reject all", on)
		}
		b.toggle(t, tab, `input[data-purpose="marketing.email"]`)
		b.click(t, tab, "#candor-save")
		if again := b.decided(t, tab); again != id {
			t.Errorf("the same visitor became %s, was %s", again, id)
		}
		b.want(t, id, "marketing.email")
		if c := eval[bool](t, tab, `candor.consent().choices['marketing.email'] === true`); !c {
			t.Error("candor.consent() does not show the change")
		}
	})

	t.Run("events wait for consent", func(t *testing.T) {
		tab := b.open(t, "en", false)
		before := anonymousCount(t, s, "Product Viewed")
		b.click(t, tab, "#candor-reject")
		id := b.decided(t, tab)
		// The page view of the load was held until the choice, then dropped.
		poll(t, tab, `candor.stats().queued === 0`)
		st := eval[map[string]float64](t, tab, `candor.stats()`)
		if st["sent"] != 0 || st["dropped"] < 1 {
			t.Errorf("after reject all: %v", st)
		}
		b.click(t, tab, `.shop-product[data-id="p-tea-longjing"] .shop-view`)
		eval[any](t, tab, `candor.track('Product Viewed', {product_id: 'p-scarf-silk', price: 399, currency: 'CNY'})`)
		st = eval[map[string]float64](t, tab, `candor.stats()`)
		if st["sent"] != 0 || st["dropped"] < 3 {
			t.Errorf("after two views without consent: %v", st)
		}
		if dropped := eval[string](t, tab, `document.getElementById('sdk-log').textContent`); !strings.Contains(dropped, "dropped") {
			t.Errorf("the panel does not show what was dropped: %s", dropped)
		}
		if got := anonymousCount(t, s, "Product Viewed"); got != before {
			t.Errorf("the server counted %d Product Viewed, had %d: something was sent", got, before)
		}
		if code, body, _ := s.do("GET", "/v1/subjects/"+id+"/profile?purpose=personalization", s.admin, nil); code != 403 {
			t.Errorf("profile for personalization after reject all: %d %s", code, body)
		}

		eval[any](t, tab, `candor.openPreferences()`)
		b.waitDialog(t, tab)
		b.toggle(t, tab, `input[data-purpose="personalization"]`)
		b.click(t, tab, "#candor-save")
		b.decided(t, tab)
		b.want(t, id, "personalization")
		b.click(t, tab, `.shop-product[data-id="p-tea-longjing"] .shop-view`)
		poll(t, tab, `candor.stats().sent === 1`)
		// Page views are for analytics only, still refused.
		eval[any](t, tab, `candor.page()`)
		if st := eval[map[string]float64](t, tab, `candor.stats()`); st["sent"] != 1 {
			t.Errorf("a page view was sent without analytics consent: %v", st)
		}
		var profile struct {
			Events struct {
				ByName []struct {
					Name  string `json:"name"`
					Count int    `json:"count"`
				} `json:"by_name"`
			} `json:"events"`
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			p := s.json("GET", "/v1/subjects/"+id+"/profile?purpose=personalization", s.admin, nil, 200)
			raw, _ := json.Marshal(p)
			json.Unmarshal(raw, &profile)
			if len(profile.Events.ByName) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(profile.Events.ByName) != 1 || profile.Events.ByName[0].Name != "Product Viewed" || profile.Events.ByName[0].Count != 1 {
			t.Errorf("the profile's events: %+v, want the one Product Viewed sent after consent", profile.Events.ByName)
		}
	})

	t.Run("signing in links the visitor", func(t *testing.T) {
		tab := b.open(t, "en", false)
		b.toggle(t, tab, `input[data-purpose="marketing.email"]`)
		b.click(t, tab, "#candor-save")
		id := b.decided(t, tab)
		user := "banner-" + randHex(4)
		b.do(t, tab, chromedp.SetValue(chromedp.CSS("#signin-user"), user), chromedp.Click(chromedp.CSS("#signin button")))
		poll(t, tab, `document.querySelector('#sdk-log .shop-log-sent') && document.getElementById('sdk-log').textContent.includes('identify')`)
		var d map[string]any
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			d = s.json("GET", "/v1/decisions?user_id="+user+"&purpose=marketing.email", s.write, nil, 200)
			if d["allow"] == true || time.Now().After(deadline) {
				break
			}
		}
		if d["allow"] != true {
			t.Errorf("the signed-in user's consent to marketing.email: %v", d)
		}
		if d := s.json("GET", "/v1/decisions?user_id="+user+"&purpose=personalization", s.write, nil, 200); d["allow"] != false {
			t.Errorf("the signed-in user's consent to personalization: %v", d)
		}
		b.want(t, id, "marketing.email")
	})

	t.Run("keyboard only", func(t *testing.T) {
		tab := b.open(t, "en", false)
		// open waited for the focus to be in the dialog.
		if r := eval[string](t, tab, `document.activeElement.getAttribute('role') || document.activeElement.id`); r != "dialog" {
			t.Errorf("focus on %q, want the dialog", r)
		}
		// The trap: Shift+Tab from the start goes round to the last button,
		// and Tab from there back to the first switch.
		b.do(t, tab, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
		if id := eval[string](t, tab, `document.activeElement.id`); id != "candor-save" {
			t.Errorf("Shift+Tab from the dialog went to %q, want the last button", id)
		}
		b.do(t, tab, chromedp.KeyEvent(kb.Tab))
		if p := eval[string](t, tab, `document.activeElement.dataset.purpose || document.activeElement.id`); p != b.purposes[0].ID {
			t.Errorf("Tab from the last button went to %q, want the first switch", p)
		}
		reached := false
		for range 40 {
			b.do(t, tab, chromedp.KeyEvent(kb.Tab))
			id := eval[string](t, tab, `document.activeElement.id`)
			if inside := eval[bool](t, tab, `document.querySelector('.candor-dialog').contains(document.activeElement)`); !inside {
				t.Fatalf("Tab left the dialog, to %q", id)
			}
			if id == "candor-reject" {
				reached = true
				break
			}
		}
		if !reached {
			t.Fatal("Tab never reached Reject all")
		}
		if outline := eval[string](t, tab, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
			t.Error("the focused button shows no focus outline")
		}
		b.do(t, tab, chromedp.KeyEvent(kb.Enter))
		b.want(t, b.decided(t, tab))
	})

	t.Run("zh-CN", func(t *testing.T) {
		tab := b.open(t, "zh-CN", false)
		testenv.Screenshot(t, tab, "banner-zh")
		text := eval[string](t, tab, `document.querySelector('.candor-dialog').textContent`)
		for _, want := range []string{"全部拒绝", "全部接受", "保存选择", "单独同意", "新加坡", "跨境"} {
			if !strings.Contains(text, want) {
				t.Errorf("the zh-CN banner does not say %q", want)
			}
		}
		b.click(t, tab, "#candor-accept")
		id := b.decided(t, tab)
		b.want(t, id, b.consentPurposes(false)...)
	})
}

// anonymousCount is how many events of the name the server counted without
// a consent to keep them (the minimization report's anonymous counts).
func anonymousCount(t *testing.T, s *testServer, name string) int {
	t.Helper()
	rep := s.json("GET", "/v1/reports/minimization", s.admin, nil, 200)
	n := 0
	for _, c := range rep["anonymous_counts"].([]any) {
		c := c.(map[string]any)
		if c["event"] == name {
			n += int(c["count"].(float64))
		}
	}
	return n
}
