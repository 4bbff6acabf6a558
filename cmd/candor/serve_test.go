package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/demo"
	"github.com/candorhq/candor/internal/testenv"
)

// TestBaseURL: the URL printed at start is one a browser can open: an
// unspecified address becomes the loopback one (and is said to listen on
// every interface), and IPv6 hosts are bracketed.
func TestBaseURL(t *testing.T) {
	for _, c := range []struct {
		configured, addr string
		https            bool
		want             string
		all, local       bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080", false, "http://127.0.0.1:8080", false, true},
		{"0.0.0.0:8081", "[::]:8081", false, "http://127.0.0.1:8081", true, true},
		{":8081", "[::]:8081", false, "http://127.0.0.1:8081", true, true},
		{"[::]:8081", "[::]:8081", true, "https://[::1]:8081", true, true},
		{"[::1]:9000", "[::1]:9000", false, "http://[::1]:9000", false, true},
		{"192.0.2.7:8443", "192.0.2.7:8443", true, "https://192.0.2.7:8443", false, false},
		{"localhost:8080", "127.0.0.1:8080", false, "http://127.0.0.1:8080", false, true},
	} {
		got, all, local := baseURL(c.configured, c.addr, c.https)
		if got != c.want || all != c.all || local != c.local {
			t.Errorf("baseURL(%q, %q, %v) = %q, %v, %v; want %q, %v, %v", c.configured, c.addr, c.https, got, all, local, c.want, c.all, c.local)
		}
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns
// the files and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "candor test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: with CANDOR_TLS_CERT and CANDOR_TLS_KEY, serve speaks
// HTTPS (and not plain HTTP), prints an https URL, and the portal's
// cookies are kept by a client at a non-loopback name.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	s := startServer(t, dir, "", func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	addr := strings.TrimPrefix(s.base, "http://")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("GET /healthz over TLS: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(s.stdout.String(), "running on https://"+addr) {
		t.Errorf("banner does not name the https URL:\n%s", s.stdout.String())
	}
	// Over HTTPS the portal's page has no warning about plain HTTP.
	resp, err = client.Get("https://" + addr + "/privacy")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `id="plain-http"`) || len(resp.Cookies()) == 0 {
		t.Errorf("portal over HTTPS: warning shown or no cookie set (%d cookies)", len(resp.Cookies()))
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP is served beside TLS")
		}
	}
	// Only one of the two is a configuration error.
	err = Run(context.Background(), Config{TLSCert: certFile, DataDir: filepath.Join(dir, "other"), Demo: true})
	if err == nil || !strings.Contains(err.Error(), "CANDOR_TLS_KEY") {
		t.Errorf("TLS cert without key: %v", err)
	}
}

// TestPlainHTTPElsewhere: a portal or console page opened over plain HTTP
// at an address other than localhost says why its forms cannot work; a
// refused form there says so instead of "expired"; at 127.0.0.1 neither.
func TestPlainHTTPElsewhere(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	get := func(path, host string) string {
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, path := range []string{"/privacy", "/console"} {
		if body := get(path, "192.0.2.10:8080"); !strings.Contains(body, `id="plain-http"`) || !strings.Contains(body, "CANDOR_TLS_CERT") {
			t.Errorf("%s at 192.0.2.10 over HTTP: no explanation", path)
		}
		if body := get(path, strings.TrimPrefix(s.base, "http://")); strings.Contains(body, `id="plain-http"`) {
			t.Errorf("%s at loopback: warned", path)
		}
		if body := get(path+"?lang=zh-CN", "shop.example:8080"); !strings.Contains(body, "CANDOR_TLS_CERT") || !strings.Contains(body, "HTTPS") {
			t.Errorf("%s in Chinese: no explanation", path)
		}
	}
	req, _ := http.NewRequest("POST", s.base+"/privacy/start", strings.NewReader(url.Values{"identifier": {"a@b.example"}, "csrf": {"x"}}.Encode()))
	req.Host = "192.0.2.10:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || strings.Contains(string(b), "has expired") || !strings.Contains(string(b), "plain HTTP") {
		t.Errorf("a form refused over plain HTTP elsewhere: %d\n%s", resp.StatusCode, b)
	}
}

// TestDemoKeysAndCustomers: the demo prints two customers to sign in as,
// keeps its admin and write keys in its data directory, and on a restart
// says where they are; the kept write key works.
func TestDemoKeysAndCustomers(t *testing.T) {
	dir := t.TempDir()
	opt := func(c *Config) { c.PolicyFile, c.Demo, c.DemoSize, c.AdminKey, c.WriteKey = "", true, 30, "", "" }
	s := startServer(t, dir, "", opt)
	out := s.stdout.String()
	for _, want := range []string{demo.Showcase[0].Email, demo.Showcase[1].Phone, "admin key: cndr_", "write key: cndr_", "demo-write-key", "/privacy"} {
		if !strings.Contains(out, want) {
			t.Errorf("first start: banner lacks %q:\n%s", want, out)
		}
	}
	s.stop()
	s = startServer(t, dir, "", opt)
	out = s.stdout.String()
	if strings.Contains(out, "write key: cndr_") || !strings.Contains(out, filepath.Join(dir, "data", "demo-write-key")) || !strings.Contains(out, "demo-admin-key") {
		t.Errorf("restart: want the files named and no key printed:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "demo-write-key"))
	if err != nil {
		t.Fatal(err)
	}
	write := strings.TrimSpace(string(b))
	if code, body, _ := s.do("GET", "/v1/decisions?user_id="+demo.Showcase[0].UserID+"&purpose=service", write, nil); code != 200 {
		t.Errorf("the kept write key: %d %s", code, body)
	}
}

// TestDemoShoppingStored: the demo's month of shopping is stored as it
// happened, spread over most of the last 30 days (none in the future, none
// older than 31 days), and each product event is about one of the shop's
// products; minimization dropped none of it as undeclared or mistyped, and
// redacted the addresses typed into a few searches.
func TestDemoShoppingStored(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			opts := []serverOpt{func(c *Config) { c.PolicyFile, c.Demo, c.DemoSize = "", true, 200 }}
			sc := storeConfig{DataDir: filepath.Join(dir, "data")}
			if store == "postgres" {
				url, schema := testenv.Postgres(t)
				opts = append(opts, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
				sc.DB, sc.DBSchema = url, schema
			}
			s := startServer(t, dir, "", opts...)
			s.stop()
			now := time.Now()
			ctx := context.Background()
			st, err := openStackWith(ctx, sc, false, quietLog(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()

			products := map[string]bool{}
			for _, p := range demo.Products {
				products[p.ID] = true
			}
			days := map[string]bool{}
			events, productEvents := 0, 0
			ids, err := st.store.SubjectIDs(ctx, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				evs, err := st.store.SubjectEvents(ctx, id, time.Time{}, 10_000)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					events++
					if e.Time.After(now) || e.Time.Before(now.Add(-31*24*time.Hour)) {
						t.Errorf("%s %s at %s: not within the 31 days before %s", e.ID, e.Name, e.Time, now)
					}
					days[e.Time.UTC().Format(time.DateOnly)] = true
					if e.Name != "Product Viewed" && e.Name != "Product Added" {
						continue
					}
					productEvents++
					plain, err := st.vault.Unseal(ctx, id, candor.EventSealField(e.ID), e.Sealed)
					if err != nil {
						t.Fatal(err)
					}
					var p struct {
						Properties map[string]any `json:"properties"`
					}
					if err := json.Unmarshal(plain, &p); err != nil {
						t.Fatal(err)
					}
					if pid, _ := p.Properties["product_id"].(string); !products[pid] {
						t.Errorf("%s %s: product %v is not one of the shop's", e.ID, e.Name, p.Properties["product_id"])
					}
				}
			}
			if len(days) < 20 || productEvents < 50 {
				t.Errorf("%d events stored (%d about products) on %d days; want product events on at least 20 days", events, productEvents, len(days))
			}
			t.Logf("%d events stored (%d about products) on %d days", events, productEvents, len(days))

			counts, err := st.store.Minimization(ctx, now.AddDate(0, 0, -32).UTC().Format(time.DateOnly), now.AddDate(0, 0, 1).UTC().Format(time.DateOnly))
			if err != nil {
				t.Fatal(err)
			}
			redacted := 0
			for _, c := range counts {
				if c.Detector == collect.ReasonUndeclared || c.Detector == collect.ReasonType || c.Detector == collect.ReasonExpired {
					t.Errorf("minimization of the demo's events: %+v", c)
				}
				if c.Item == "properties.query" && c.Action == collect.ActionRedacted {
					redacted += int(c.Count)
				}
			}
			if redacted == 0 {
				t.Errorf("no search query had personal data redacted: %+v", counts)
			}
		})
	}
}
