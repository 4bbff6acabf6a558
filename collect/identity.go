package collect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// A key of the browser role is public in the shop's pages, so whoever holds
// it could name any user id. A message it sends may name one only with an
// identity token that the shop's own server made for that user when they
// signed in: "v1.EXPIRY.HMAC", where EXPIRY is a Unix time and HMAC is
// hex(HMAC-SHA256(secret, "candor-identity-v1:" + userId + ":" + EXPIRY)),
// the secret being what `candor keys identity-secret` prints. The SDK sends
// it as context.candorIdentity.

// IdentityContextKey is the context member that carries the token.
const IdentityContextKey = "candorIdentity"

// MaxIdentityLifetime bounds how far ahead a token may expire.
const MaxIdentityLifetime = 31 * 24 * time.Hour

// ReasonBrowserKey is why an identifier trait from a browser key is
// dropped: e-mail addresses and phone numbers come from the shop's server.
const ReasonBrowserKey = "browser_key"

// IdentityToken returns a token for userID that expires at exp, for the
// shop's server (and the demo) to put in the page.
func IdentityToken(secret []byte, userID string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return "v1." + e + "." + identityMAC(secret, userID, e)
}

func identityMAC(secret []byte, userID, exp string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("candor-identity-v1:" + userID + ":" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// checkIdentity verifies a token for userID at now.
func checkIdentity(secret []byte, userID, token string, now time.Time) error {
	refuse := &candor.Error{Code: candor.EFORBIDDEN, Reason: "browser_key",
		Message: "a browser key names a user only with an identity token from the shop's server (context.candorIdentity; see candor keys identity-secret)"}
	parts := strings.Split(token, ".")
	if len(secret) == 0 || len(parts) != 3 || parts[0] != "v1" {
		return refuse
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return refuse
	}
	if t := time.Unix(exp, 0); !t.After(now) || t.After(now.Add(MaxIdentityLifetime)) {
		refuse.Message = "the identity token has expired (or expires too far ahead); the shop's server makes a new one"
		return refuse
	}
	if !hmac.Equal([]byte(parts[2]), []byte(identityMAC(secret, userID, parts[1]))) {
		return refuse
	}
	return nil
}
