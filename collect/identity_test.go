package collect

import (
	"testing"
	"time"
)

func TestIdentityToken(t *testing.T) {
	secret := []byte("the identity secret")
	now := time.Unix(1_800_000_000, 0)
	good := IdentityToken(secret, "u-1", now.Add(time.Hour))
	if err := checkIdentity(secret, "u-1", good, now); err != nil {
		t.Fatalf("a good token: %v", err)
	}
	for name, c := range map[string]struct {
		secret      []byte
		user, token string
		now         time.Time
	}{
		"another user":   {secret, "u-2", good, now},
		"another secret": {[]byte("another secret"), "u-1", good, now},
		"no secret":      {nil, "u-1", good, now},
		"expired":        {secret, "u-1", good, now.Add(2 * time.Hour)},
		"too far ahead":  {secret, "u-1", IdentityToken(secret, "u-1", now.Add(2*MaxIdentityLifetime)), now},
		"empty":          {secret, "u-1", "", now},
		"garbage":        {secret, "u-1", "v1.x.y", now},
		"other version":  {secret, "u-1", "v2" + good[2:], now},
	} {
		if err := checkIdentity(c.secret, c.user, c.token, c.now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzCheckIdentity(f *testing.F) {
	secret := []byte("the identity secret")
	now := time.Unix(1_800_000_000, 0)
	f.Add("u-1", IdentityToken(secret, "u-1", now.Add(time.Hour)))
	f.Add("", "v1..")
	f.Fuzz(func(t *testing.T, user, token string) {
		if checkIdentity(secret, user, token, now) == nil && token != IdentityToken(secret, user, parseExp(token)) {
			t.Fatalf("accepted %q for %q", token, user)
		}
	})
}

func parseExp(token string) time.Time {
	var sec int64
	for i, p := 0, 0; i < len(token); i++ {
		if token[i] == '.' {
			p++
			continue
		}
		if p == 1 {
			sec = sec*10 + int64(token[i]-'0')
		}
	}
	return time.Unix(sec, 0)
}
