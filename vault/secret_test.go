package vault_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/candorhq/candor/vault"
)

func TestSealSecret(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	secret, ad := []byte("JBSWY3DPEHPK3PXP"), []byte("stf_a")
	sealed, err := v.SealSecret(ctx, secret, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) || len(sealed) != 12+len(secret)+16 {
		t.Fatalf("sealed %x", sealed)
	}
	again, _ := v.SealSecret(ctx, secret, ad)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
	if got, err := v.OpenStaffSecret(ctx, sealed, ad); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open %q %v", got, err)
	}
	names, err := e.db.Keys().SystemKeyNames(ctx)
	if err != nil || !slices.Contains(names, vault.StaffSecretsKey) {
		t.Fatalf("system keys %v %v", names, err)
	}

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	nonce := bytes.Clone(sealed)
	nonce[0] ^= 1
	for name, c := range map[string]struct{ ct, ad []byte }{
		"other account": {sealed, []byte("stf_b")},
		"no ad":         {sealed, nil},
		"flipped tag":   {flipped, ad},
		"flipped nonce": {nonce, ad},
		"cut short":     {sealed[:20], ad},
		"empty":         {nil, ad},
	} {
		if _, err := v.OpenStaffSecret(ctx, c.ct, c.ad); !errors.Is(err, vault.ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}

	// Another vault on the same key store (another node, or after a
	// restart) reads the same key; a rotation of the master key keeps it.
	other := e.open(t, vault.Options{})
	if got, err := other.OpenStaffSecret(ctx, sealed, ad); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open in another vault: %q %v", got, err)
	}
	if _, err := v.Rotate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := e.open(t, vault.Options{}).OpenStaffSecret(ctx, sealed, ad); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open after rotation: %q %v", got, err)
	}
	// The key is kept wrapped: its stored form is not an AES key.
	wrapped, err := e.db.Keys().SystemKey(ctx, vault.StaffSecretsKey)
	if err != nil || len(wrapped) <= 32 {
		t.Fatalf("stored key %d bytes, %v", len(wrapped), err)
	}
}
