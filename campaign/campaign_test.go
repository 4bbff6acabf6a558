package campaign_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/sms"
	"github.com/candorhq/candor/smtp"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/webhook"
	"github.com/emersion/go-msgauth/dkim"
)

var ctx = context.Background()

// eachStore runs f on the embedded store and, when CANDOR_TEST_POSTGRES
// is set, on PostgreSQL.
func eachStore(t *testing.T, f func(t *testing.T, e *testenv.Env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, testenv.New(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		url, prefix := testenv.Postgres(t)
		db, err := postgres.Open(ctx, url, postgres.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		e, err := testenv.Wire(db, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		f(t, e)
	})
}

// clock is a moved clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// fixture is a campaign service on real parts: a real SMTP server on
// loopback, reached through a pool with DKIM, and a real SMS receiver.
type fixture struct {
	e      *testenv.Env
	svc    *campaign.Service
	opts   campaign.Options
	mail   *testenv.MailServer
	pool   *smtp.Pool
	sms    *smsReceiver
	clock  *clock
	dkimPK ed25519.PublicKey
}

type smsReceiver struct {
	mu   sync.Mutex
	msgs []sms.Message
}

func (r *smsReceiver) to(number string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.To == number {
			out = append(out, m.Text)
		}
	}
	return out
}

var smsSecret = []byte("0123456789abcdef0123456789abcdef")

func newFixture(t *testing.T, e *testenv.Env) *fixture {
	f := &fixture{e: e, mail: testenv.NewMailServer(t), sms: &smsReceiver{}, clock: &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai)}}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	f.dkimPK = pub
	pool, err := smtp.NewPool(f.mail.URL, "news@shop.example", 4, &smtp.DKIM{Domain: "shop.example", Selector: "s1", Key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	f.pool = pool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature(smsSecret, b, r.Header.Get(webhook.SignatureHeader), time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", 401)
			return
		}
		var m sms.Message
		json.Unmarshal(b, &m)
		f.sms.mu.Lock()
		f.sms.msgs = append(f.sms.msgs, m)
		f.sms.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	gw, err := sms.New(srv.URL, smsSecret)
	if err != nil {
		t.Fatal(err)
	}
	f.opts = campaign.Options{Policy: e.Policy, Store: e.Store, Gate: e.Gate, Ledger: e.Ledger, Auditor: e.Audit, Blind: e.Vault.BlindIndex,
		Mail: pool, SMS: gw, PublicURL: "https://candor.shop.example", TokenKey: e.Vault.BlindIndex("campaign-links", "v1"), Workers: 4, Now: f.clock.Now}
	f.svc = campaign.New(f.opts)
	return f
}

var marketer = candor.Actor{ID: "test:marketer", Role: "marketer"}

// person creates a person with an e-mail address, a phone, a name and a
// language; scope "all" grants every consent purpose that needs no
// separate consent, "" records nothing.
func (f *fixture) person(t *testing.T, n int, lang, scope string) (id, email, phone string) {
	t.Helper()
	email = "p" + itoa(n) + "@mail.example"
	phone = "+861380000" + pad4(n)
	id = f.e.MustSubject(t, subjects.Input{UserID: "u" + itoa(n), Email: email, Phone: phone, Traits: map[string]any{"name": "Person " + itoa(n), "language": lang}}, scope)
	return id, email, phone
}

func itoa(n int) string {
	return strings.TrimLeft(pad4(n), "0") + map[bool]string{true: "0", false: ""}[n == 0]
}
func pad4(n int) string {
	b := []byte("0000")
	for i := 3; i >= 0 && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}

// perRecipient counts the messages the SMTP server received per address.
func (f *fixture) perRecipient() map[string]int {
	out := map[string]int{}
	for _, m := range f.mail.Messages() {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

func (f *fixture) mailTo(addr string) []testenv.Mail {
	var out []testenv.Mail
	for _, m := range f.mail.Messages() {
		if len(m.To) == 1 && m.To[0] == addr {
			out = append(out, m)
		}
	}
	return out
}

func (f *fixture) email(t *testing.T, name string) string {
	t.Helper()
	v, err := f.svc.Create(ctx, marketer, campaign.Input{Name: name, Channel: candor.ChannelEmail, Purpose: "marketing.email",
		Subject: candor.Text{candor.LangEN: "Spring sale, {{name}}", candor.LangZH: "春季促销，{{name}}"},
		Body:    candor.Text{candor.LangEN: "Dear {{name}}, 20% off this week.", candor.LangZH: "亲爱的{{name}}，本周八折。"}})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func (f *fixture) send(t *testing.T, id string) campaign.PassResult {
	t.Helper()
	if _, err := f.svc.Start(ctx, marketer, id); err != nil && candor.ErrorCode(err) != candor.ECONFLICT {
		t.Fatal(err)
	}
	res, err := f.svc.Pass(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var unsubRE = regexp.MustCompile(`https://candor\.shop\.example/v1/unsubscribe/([A-Za-z0-9_.\-]+)`)

// TestEmailCampaign: bad templates are refused with 422 naming the trait
// and nothing is stored; exactly the consenting people get one message
// each, in their language, signed (DKIM verifies), with List-Unsubscribe
// and List-Unsubscribe-Post and a visible link and the sender's identity;
// a second pass sends nothing; a one-click unsubscribe withdraws, and the
// next campaign leaves the person out; the cap (2 in 7 days) skips the
// third campaign, and a moved clock lifts it.
func TestEmailCampaign(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		a, aMail, _ := f.person(t, 1, "en", consent.ScopeAll)
		_, bMail, _ := f.person(t, 2, "zh-CN", consent.ScopeAll)
		_, cMail, _ := f.person(t, 3, "", consent.ScopeAll) // the organization's language: zh-CN
		_, dMail, _ := f.person(t, 4, "en", "")             // never asked
		_, eMail, _ := f.person(t, 5, "en", consent.ScopeNone)
		_, sMail, _ := f.person(t, 6, "en", consent.ScopeAll) // suppressed
		if err := e.Store.Keys().Suppress(ctx, candor.IdentEmail, e.Vault.BlindIndex(candor.IdentEmail, sMail), time.Now()); err != nil {
			t.Fatal(err)
		}

		bad := []struct {
			in   campaign.Input
			want string
		}{
			{campaign.Input{Name: "x", Channel: "email", Purpose: "marketing.email", Subject: candor.Text{"en": "Hi {{nickname}}", "zh-CN": "你好"}, Body: candor.Text{"en": "b", "zh-CN": "b"}}, "undeclared trait"},
			{campaign.Input{Name: "x", Channel: "email", Purpose: "marketing.email", Subject: candor.Text{"en": "Hi", "zh-CN": "你好"}, Body: candor.Text{"en": "in {{city}}", "zh-CN": "b"}}, "not declared for marketing.email"},
			{campaign.Input{Name: "x", Channel: "email", Purpose: "service", Subject: candor.Text{"en": "Hi", "zh-CN": "你好"}, Body: candor.Text{"en": "b", "zh-CN": "b"}}, "rests on contract"},
			{campaign.Input{Name: "x", Channel: "email", Purpose: "analytics", Subject: candor.Text{"en": "Hi", "zh-CN": "你好"}, Body: candor.Text{"en": "b", "zh-CN": "b"}}, "not a marketing purpose"},
			{campaign.Input{Name: "x", Channel: "sms", Purpose: "marketing.email", Body: candor.Text{"en": "b", "zh-CN": "b"}}, "not sms"},
		}
		for _, c := range bad {
			_, err := f.svc.Create(ctx, candor.Actor{ID: "test:admin", Role: candor.RoleAdmin}, c.in)
			if candor.ErrorCode(err) != candor.EINVALID || !strings.Contains(fmtErr(err), c.want) {
				t.Errorf("%+v: %v, want EINVALID with %q", c.in, fmtErr(err), c.want)
			}
		}
		if list, _, _ := f.svc.List(ctx, testenv.Admin, "", 10); len(list) != 0 {
			t.Fatalf("a refused campaign was stored: %+v", list)
		}
		if _, err := f.svc.Create(ctx, candor.Actor{ID: "test:support", Role: "support"}, campaign.Input{Name: "x", Channel: "email", Purpose: "marketing.email",
			Subject: candor.Text{"en": "Hi", "zh-CN": "你好"}, Body: candor.Text{"en": "b", "zh-CN": "b"}}); candor.ErrorCode(err) != candor.EFORBIDDEN {
			t.Errorf("support created a campaign: %v", err)
		}

		id := f.email(t, "Spring")
		// A preview for one person: through the gate as the marketer
		// (whose role sees e-mail addresses masked), audited.
		pv, err := f.svc.Preview(ctx, marketer, id, a, "req-preview")
		if err != nil {
			t.Fatal(err)
		}
		if pv.To == aMail || !strings.Contains(pv.Body, "Dear Person 1") || pv.Subject != "Spring sale, Person 1" || pv.Language != "en" {
			t.Errorf("preview: %+v", pv)
		}
		if entries, _ := e.Store.AuditSearch(ctx, candor.AuditQuery{TraceID: "req-preview", Limit: 10}); len(entries) != 1 || entries[0].SubjectID != a {
			t.Errorf("preview audit: %+v", entries)
		}
		if len(f.mail.Messages()) != 0 {
			t.Fatal("a preview sent mail")
		}

		res := f.send(t, id)
		if res.Sent != 3 || !res.Done {
			t.Fatalf("pass: %+v", res)
		}
		got := f.perRecipient()
		want := map[string]int{aMail: 1, bMail: 1, cMail: 1}
		if len(got) != len(want) || got[aMail] != 1 || got[bMail] != 1 || got[cMail] != 1 || got[dMail]+got[eMail]+got[sMail] != 0 {
			t.Fatalf("per recipient %v, want %v", got, want)
		}
		v, _ := f.svc.Get(ctx, marketer, id)
		if v.Status != candor.CampaignDone || v.Stats.Sent != 3 || v.Stats.Skipped[campaign.SkipSuppressed] != 1 {
			t.Errorf("view: %+v", v)
		}
		// The message.
		m := f.mailTo(aMail)[0]
		body := m.Body()
		for _, s := range []string{"Dear Person 1, 20% off", "Unsubscribe: https://candor.shop.example/v1/unsubscribe/", "Demo Shop / 示范商城", "privacy@shop.example"} {
			if !strings.Contains(body, s) {
				t.Errorf("body lacks %q:\n%s", s, body)
			}
		}
		if strings.Contains(body, aMail) || strings.Contains(m.Data, "unsubscribe/"+aMail) {
			t.Error("the unsubscribe link carries the address")
		}
		for _, h := range []string{"List-Unsubscribe: <https://candor.shop.example/v1/unsubscribe/", "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "DKIM-Signature:"} {
			if !strings.Contains(m.Data, h) {
				t.Errorf("headers lack %q:\n%s", h, m.Data)
			}
		}
		if zh := f.mailTo(bMail)[0].Body(); !strings.Contains(zh, "亲爱的Person 2，本周八折") || !strings.Contains(zh, "退订：") {
			t.Errorf("zh-CN body:\n%s", zh)
		}
		if zh := f.mailTo(cMail)[0].Body(); !strings.Contains(zh, "本周八折") {
			t.Errorf("the organization's language was not used:\n%s", zh)
		}
		// DKIM verifies with the public key in a test resolver, and covers
		// the List-Unsubscribe headers (RFC 8058 §4).
		verifications, err := dkim.VerifyWithOptions(strings.NewReader(m.Data), &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
			return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(f.dkimPK)}, nil
		}})
		if err != nil || len(verifications) != 1 || verifications[0].Err != nil || verifications[0].Domain != "shop.example" {
			t.Fatalf("DKIM: %+v %v\n%s", verifications[0], err, m.Data)
		}
		if hs := strings.Join(verifications[0].HeaderKeys, ":"); !strings.Contains(strings.ToLower(hs), "list-unsubscribe:list-unsubscribe-post") {
			t.Errorf("signed headers: %s", hs)
		}
		// Again: nothing more.
		if res, _ := f.svc.Pass(ctx, id); res.Sent != 0 {
			t.Errorf("a second pass sent %d", res.Sent)
		}

		// One click: a's link withdraws marketing.email.
		tok := unsubRE.FindStringSubmatch(body)
		if tok == nil {
			t.Fatal("no unsubscribe link")
		}
		if err := f.svc.Unsubscribe(ctx, tok[1]+"x", ""); err == nil {
			t.Error("a forged token was accepted")
		}
		if err := f.svc.Unsubscribe(ctx, tok[1], ""); err != nil {
			t.Fatal(err)
		}
		if d, _ := e.Gate.Decide(ctx, a, "marketing.email"); d.Allow || d.Code != "withdrawn" {
			t.Errorf("after unsubscribe: %+v", d)
		}
		hist, _ := e.Ledger.History(ctx, a)
		if last := hist[len(hist)-1]; last.Channel != "unsubscribe" || last.Purpose != "marketing.email" || last.State != candor.ConsentWithdrawn {
			t.Errorf("ledger: %+v", last)
		}
		second := f.email(t, "Second")
		if res := f.send(t, second); res.Sent != 2 {
			t.Errorf("second campaign: %+v", res)
		}
		if n := len(f.mailTo(aMail)); n != 1 {
			t.Errorf("the unsubscribed person got %d messages", n)
		}
		// The cap: 2 e-mails in any 7 days.
		third := f.email(t, "Third")
		if res := f.send(t, third); res.Sent != 0 || res.Skipped != 3 { // two capped, one suppressed
			t.Errorf("third campaign: %+v", res)
		}
		if v, _ := f.svc.Get(ctx, marketer, third); v.Stats.Skipped[campaign.SkipFrequency] != 2 {
			t.Errorf("third stats: %+v", v.Stats)
		}
		f.clock.Add(8 * 24 * time.Hour)
		fourth := f.email(t, "Fourth")
		if res := f.send(t, fourth); res.Sent != 2 {
			t.Errorf("fourth campaign, a week later: %+v", res)
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString(err.Error())
	if ce, ok := err.(*candor.Error); ok {
		for _, fe := range ce.Fields {
			b.WriteString("; " + fe.Field + ": " + fe.Message)
		}
	}
	return b.String()
}
