package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/vault"
)

// Valuer lists every text and binary value a store holds, in every table.
type Valuer interface {
	Values(ctx context.Context) ([][]byte, error)
}

type signer struct{ key ed25519.PrivateKey }

func (s signer) KeyID() string          { return "storetest" }
func (s signer) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }

// testNoPlaintext writes subjects through the real vault, subjects service
// and consent ledger, then reads every value of every table and looks for
// their e-mail addresses, phone numbers and cities.
func testNoPlaintext(t *testing.T, s candor.Store) {
	v, ok := s.(Valuer)
	if !ok {
		t.Fatalf("%T does not list its values", s)
	}
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	vt, err := vault.Open(ctx, s.Keys(), vault.Options{MasterKeyFile: filepath.Join(t.TempDir(), "master.json"), CreateMasterKey: true})
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	log := audit.New(s, signer{key}, audit.Options{})
	defer log.Close()
	notices, err := consent.LoadNotices(ctx, s, policy.NewNotice(pol), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ledger := consent.New(consent.Options{Store: s, Sealer: vt, Policy: pol, Notices: notices, Signer: signer{key}, Auditor: log})
	svc := subjects.New(subjects.Options{Store: s, Keys: vt, Policy: pol, Auditor: log, Changed: ledger.Invalidate})
	actor := candor.Actor{ID: "storetest", Role: candor.RoleAdmin}
	var needles [][]byte
	var ids []string
	for i := range 10 {
		email := fmt.Sprintf("plain.%d.%x@example.com", i, key[:4])
		phone := fmt.Sprintf("1390%07d", 1234567+i)
		city := fmt.Sprintf("Wuzhen%x", key[4+i:6+i])
		id, _, err := svc.Upsert(ctx, actor, "", subjects.Input{UserID: fmt.Sprint("u", i), Email: email, Phone: phone,
			Traits: map[string]any{"city": city, "name": "Plain Name"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Record(ctx, actor, "", id, consent.Choice{NoticeVersion: notices.Current().Version, Scope: consent.ScopeAll,
			Guardian: &consent.Guardian{Relation: "parent", Method: "id_check", Reference: "guardian of " + email}}); err != nil {
			t.Fatal(err)
		}
		needles = append(needles, []byte(email), []byte(phone), []byte(city))
		ids = append(ids, id)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	values, err := v.Values(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen, notice := 0, false
	for _, val := range values {
		notice = notice || bytes.Contains(val, []byte(pol.Organization.Contact))
		for _, n := range needles {
			if bytes.Contains(val, n) {
				t.Errorf("a stored value holds the plaintext %q", n)
			}
		}
		if bytes.Contains(val, []byte(ids[0])) {
			seen++
		}
	}
	// The scan read the tables: the first subject's id is in several of them.
	if seen < 3 {
		t.Errorf("the values hold the subject id only %d times: the scan did not read the tables", seen)
	}
	// The notice's canonical form (binary) holds the controller's contact
	// address in the clear: finding it proves binary columns are read as
	// bytes, where a plaintext e-mail would show.
	if !notice {
		t.Error("the controller's contact address in the stored notice was not found: binary columns were not read")
	}
}
