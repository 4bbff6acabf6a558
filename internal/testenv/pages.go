package testenv

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// Internal words that no page may show to people, in any language: the
// gate's English reasons, placeholders of the catalog, Candor's codes.
var internalWords = []string{"rests on", "the person declined", "the person withdrew", "no consent to", "`", "{purpose}", "{date}", "{basis}", "{n}",
	"legal_obligation", "user_id", "anonymous_id", "marketing.sms", "demo-shop", "unverified_change", "field_not_declared", "reconsent_needed"}

// latinOK are the words in Latin letters that a Chinese page may show:
// names, standards, and what a person types or sees elsewhere.
var latinOK = map[string]bool{
	"Candor": true, "Demo": true, "Shop": true, "GPC": true, "HTTPS": true, "HTTP": true, "TLS": true, "JSON": true, "CSV": true, "UTC": true,
	"localhost": true, "http": true, "CANDOR_TLS_CERT": true, "CANDOR_TLS_KEY": true, "Cookie": true, "FreeOTP": true, "Google": true,
	"Authenticator": true, "1Password": true, "API": true, "English": true,
}

var (
	tagRe    = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<code[^>]*>.*?</code>|<[^>]+>`)
	attrRe   = regexp.MustCompile(`(?:placeholder|aria-label|title|alt)="([^"]*)"`)
	latinRe  = regexp.MustCompile(`[0-9]*[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]`)
	emailRe  = regexp.MustCompile(`[^\s@<>"]+@[^\s@<>"]+`)
	keyishRe = regexp.MustCompile(`\b[a-z]+(?:_[a-z0-9]+)+\b`)
)

// Visible returns what a person reads on an HTML page: its text and the
// attributes read out or shown (placeholder, aria-label, title, alt),
// without markup, scripts, styles and <code> (ids and commands shown as
// such, for staff).
func Visible(page string) string {
	var b strings.Builder
	for _, m := range attrRe.FindAllStringSubmatch(page, -1) {
		b.WriteString(html.UnescapeString(m[1]) + "\n")
	}
	b.WriteString(html.UnescapeString(tagRe.ReplaceAllString(page, " ")))
	return b.String()
}

// LatinWords returns the words in Latin letters of s, as CheckPage sees
// them (to allow a name made of several).
func LatinWords(s string) []string { return latinRe.FindAllString(s, -1) }

// PageCheck says what else a page may not, or may, show.
type PageCheck struct {
	// Chinese: the page is in Chinese, and shows no English word of three
	// letters or more but the standard ones, e-mail addresses and Allowed.
	Chinese bool
	Allowed map[string]bool
	// IsKey reports whether a word is a key of the catalog (nil: not
	// checked).
	IsKey func(string) bool
	// Never lists strings that must not be in the page at all, even in
	// its markup (a raw anonymous id, say).
	Never []string
}

// CheckPage fails t when the page shows a word of Candor's internals, a
// catalog key, one of c.Never, or, in Chinese, English.
func CheckPage(t testing.TB, name, page string, c PageCheck) {
	t.Helper()
	seen := emailRe.ReplaceAllString(Visible(page), " ")
	for _, w := range internalWords {
		if strings.Contains(seen, w) {
			t.Errorf("%s shows %q", name, w)
		}
	}
	for _, w := range c.Never {
		if w != "" && strings.Contains(page, w) {
			t.Errorf("%s holds %q", name, w)
		}
	}
	if c.IsKey != nil {
		for _, k := range keyishRe.FindAllString(seen, -1) {
			if c.IsKey(k) {
				t.Errorf("%s shows the catalog key %q", name, k)
			}
		}
	}
	if c.Chinese {
		for _, w := range latinRe.FindAllString(seen, -1) {
			if len(w) >= 3 && !latinOK[w] && !c.Allowed[w] {
				t.Errorf("%s (zh-CN) shows the English %q", name, w)
			}
		}
	}
}
