package web

import (
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

// TestDemoCartWording: the demo shop's cart says "0 items", and gives
// shop.js the words for one item and for more, in English and in Chinese,
// which shop.js uses when the count changes ("1 item", "2 items").
func TestDemoCartWording(t *testing.T) {
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	s := &Server{Policy: pol, SDKKey: "cndr_sdk_test", CSRFKey: []byte("test-csrf-key"), log: slog.Default()}
	for _, c := range []struct{ lang, want string }{
		{candor.LangEN, `<strong id="cart-count">0</strong> <span id="cart-unit" data-singular="item" data-plural="items">items</span>`},
		{candor.LangZH, `<strong id="cart-count">0</strong> <span id="cart-unit" data-singular="件商品" data-plural="件商品">件商品</span>`},
	} {
		w := httptest.NewRecorder()
		s.demo(w, httptest.NewRequest("GET", "/demo?lang="+c.lang, nil))
		if got := w.Body.String(); w.Code != 200 || !strings.Contains(got, c.want) {
			t.Errorf("%s: want %s in the page (status %d):\n%s", c.lang, c.want, w.Code, got)
		}
	}
	js, err := fs.ReadFile(files, "static/shop.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cart === 1 ? unit.dataset.singular : unit.dataset.plural", "showCart();"} {
		if !strings.Contains(string(js), want) {
			t.Errorf("shop.js does not word the cart's count by it (%q)", want)
		}
	}
}
