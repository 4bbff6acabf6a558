package subjects_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

func TestUpsertMergesByIdentifier(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	a, created, err := e.Subjects.Upsert(ctx, testenv.Admin, "", subjects.Input{UserID: "u1", Email: "Li.Na@Example.CN "})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	cases := []struct {
		name string
		in   subjects.Input
	}{
		{"same e-mail, other case and spaces", subjects.Input{Email: " li.na@example.cn", Traits: map[string]any{"city": "杭州"}}},
		{"same user id, new phone", subjects.Input{UserID: "u1", Phone: "138 1234 5678"}},
		{"phone in another format", subjects.Input{Phone: "+86 138-1234-5678"}},
		{"anonymous id joins", subjects.Input{Email: "li.na@example.cn", AnonymousID: "anon-1"}},
	}
	for _, c := range cases {
		got, created, err := e.Subjects.Upsert(ctx, testenv.Admin, "", c.in)
		if err != nil || created || got != a {
			t.Errorf("%s: got %s created=%v err=%v, want merge into %s", c.name, got, created, err, a)
		}
	}
	for kind, v := range map[string]string{candor.IdentEmail: "LI.NA@example.cn", candor.IdentPhone: "008613812345678", candor.IdentAnonymousID: "anon-1", candor.IdentUserID: "u1"} {
		if got, err := e.Subjects.Find(ctx, kind, v); err != nil || got != a {
			t.Errorf("Find(%s) = %s, %v", kind, got, err)
		}
	}
	if _, err := e.Subjects.Find(ctx, candor.IdentEmail, "nobody@example.cn"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("Find unknown: %v", err)
	}
}

func TestUpsertRefuses(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	e.MustSubject(t, subjects.Input{UserID: "one", Email: "one@example.com"}, "")
	e.MustSubject(t, subjects.Input{UserID: "two", Email: "two@example.com"}, "")
	cases := []struct {
		name string
		in   subjects.Input
		code string
		want []string
	}{
		{"undeclared trait named", subjects.Input{UserID: "x", Traits: map[string]any{"shoe_size": 42, "favourite_colour": "red"}}, candor.EINVALID, []string{"traits.favourite_colour", "traits.shoe_size"}},
		{"wrong type", subjects.Input{UserID: "x", Traits: map[string]any{"city": 12}}, candor.EINVALID, []string{"traits.city"}},
		{"bad date", subjects.Input{UserID: "x", Traits: map[string]any{"birth_date": "yesterday"}}, candor.EINVALID, []string{"traits.birth_date"}},
		{"future birth date", subjects.Input{UserID: "x", Traits: map[string]any{"birth_date": "2999-01-01"}}, candor.EINVALID, []string{"traits.birth_date"}},
		{"bad phone", subjects.Input{Phone: "12345"}, candor.EINVALID, []string{"phone"}},
		{"no identifier", subjects.Input{Traits: map[string]any{"city": "上海"}}, candor.EINVALID, []string{"user_id"}},
		{"two subjects' identifiers", subjects.Input{UserID: "one", Email: "two@example.com"}, candor.ECONFLICT, []string{"email"}},
		{"huge value", subjects.Input{UserID: "x", Traits: map[string]any{"city": strings.Repeat("x", 5000)}}, candor.EINVALID, []string{"traits.city"}},
	}
	for _, c := range cases {
		_, _, err := e.Subjects.Upsert(ctx, testenv.Admin, "", c.in)
		if candor.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
			continue
		}
		var ce *candor.Error
		if !asError(err, &ce) {
			t.Fatalf("%s: not a candor error", c.name)
		}
		var fields []string
		for _, f := range ce.Fields {
			fields = append(fields, f.Field)
		}
		for _, w := range c.want {
			if !strings.Contains(strings.Join(fields, " "), w) {
				t.Errorf("%s: fields %v lack %s", c.name, fields, w)
			}
		}
		if strings.Contains(err.Error(), "two@example.com") || strings.Contains(err.Error(), "12345") {
			t.Errorf("%s: the error echoes the value: %v", c.name, err)
		}
	}
	if n, _ := e.Store.CountSubjects(ctx); n != 2 {
		t.Errorf("refused writes changed the store: %d subjects", n)
	}
}

// TestConcurrentCreate: two writers racing to create the same person end
// with one subject.
func TestConcurrentCreate(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, _, err := e.Subjects.Upsert(ctx, testenv.Admin, "", subjects.Input{Email: "race@example.com"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("racing creates made several subjects: %v", ids)
		}
	}
}

func asError(err error, target **candor.Error) bool {
	return errors.As(err, target)
}
