package vault_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/vault"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vault-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	v, err := vault.Open(ctx, db.Keys(), vault.Options{
		MasterKeyFile:   filepath.Join(dir, "master.json"),
		CreateMasterKey: true, // demo only: production points at its own keyset
	})
	if err != nil {
		log.Fatal(err)
	}

	// A subject gets a key; its e-mail address is sealed under it, and found
	// again through the blind index of its normalized form.
	subject := candor.NewID("sub_")
	if err := v.NewSubjectKey(ctx, subject); err != nil {
		log.Fatal(err)
	}
	email, err := vault.NormalizeEmail(" Zhang.Wei@Example.CN ")
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := v.Seal(ctx, subject, "email", []byte(email))
	if err != nil {
		log.Fatal(err)
	}
	index := v.BlindIndex(candor.IdentEmail, email)
	fmt.Println("blind index bytes:", len(index))

	plain, err := v.Unseal(ctx, subject, "email", sealed)
	fmt.Println(string(plain), err)

	// Moved to another field, the ciphertext does not open.
	_, err = v.Unseal(ctx, subject, "city", sealed)
	fmt.Println(errors.Is(err, vault.ErrTampered))

	// Rotation re-wraps the key; the data still opens.
	res, err := v.Rotate(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("re-wrapped:", res.Rewrapped)

	// Erasure destroys the key: the data can never be read again.
	if err := v.Shred(ctx, subject); err != nil {
		log.Fatal(err)
	}
	_, err = v.Unseal(ctx, subject, "email", sealed)
	fmt.Println(errors.Is(err, vault.ErrShredded), candor.ErrorCode(err))

	// Output:
	// blind index bytes: 32
	// zhang.wei@example.cn <nil>
	// true
	// re-wrapped: 1
	// true gone
}
