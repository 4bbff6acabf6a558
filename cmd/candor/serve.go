package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/demo"
	"github.com/candorhq/candor/examples"
	chttp "github.com/candorhq/candor/http"
	"github.com/candorhq/candor/internal/app"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/smtp"
	"github.com/candorhq/candor/staff"
	"github.com/candorhq/candor/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Config is everything serve needs, parsed from flags and the environment.
// Tests build one in code.
type Config struct {
	PolicyFile string // empty with Demo: the built-in demo policy
	DataDir    string
	DB         string
	// Store holds the PostgreSQL settings beyond DB (schema prefix, key
	// database, pool size, statement timeout) and the master key file.
	Store     storeConfig
	Addr      string
	AdminAddr string // serves /metrics; empty: /metrics on Addr
	Demo      bool
	DemoSize  int // customers the demo creates; default 1000

	AdminKey string // from CANDOR_ADMIN_KEY(_FILE)
	WriteKey string // from CANDOR_WRITE_KEY(_FILE)

	// TLSCert and TLSKey name the PEM files of a certificate and its key
	// (CANDOR_TLS_CERT, CANDOR_TLS_KEY): with both, the API, the portal
	// and the console are served over HTTPS, so that browsers on other
	// machines keep the pages' Secure cookies.
	TLSCert, TLSKey string

	Stdout io.Writer
	Log    io.Writer // the JSON log; default Stderr
	Stderr io.Writer
	// Ready is called with the API's address once it listens.
	Ready func(addr string)
	// SMTPURL and SMTPFrom configure the e-mail that carries verification
	// codes (CANDOR_SMTP_URL or _FILE, CANDOR_SMTP_FROM).
	SMTPURL, SMTPFrom string
	// SMSURL and SMSSecret configure the SMS gateway that carries codes
	// to phones (CANDOR_SMS_URL, CANDOR_SMS_SECRET, or their _FILE).
	SMSURL, SMSSecret string
	// MailEventsSecret verifies the bounces and complaints the mail
	// server or relay reports (CANDOR_MAIL_EVENTS_SECRET or _FILE).
	MailEventsSecret string
	// NoTriggers leaves the policy's triggered messages unsent
	// (CANDOR_TRIGGERS=off).
	NoTriggers bool
	// PublicURL is where people reach Candor (CANDOR_PUBLIC_URL): links
	// in campaign messages start with it.
	PublicURL string
	// DKIM signs campaign e-mail (CANDOR_DKIM_KEY_FILE, CANDOR_DKIM_DOMAIN,
	// CANDOR_DKIM_SELECTOR).
	DKIM *smtp.DKIM
	// IngestQueue bounds the events accepted but not yet committed
	// (CANDOR_INGEST_QUEUE); beyond it the collector answers 429.
	IngestQueue int
	// PIPLDays is the deadline for requests under PIPL, from 1 to 90 days
	// (CANDOR_PIPL_DAYS); 0: rights.DefaultPIPLDays.
	PIPLDays int

	// ingestBaseline stores events with every privacy step switched off:
	// for `candor bench ingest` only, never set from flags or environment.
	ingestBaseline bool
}

// tuneGC lets the heap grow to three times the live data between
// collections (GOGC=200) unless the operator set GOGC: a server's live heap
// is small, and collecting half as often bought about 10% more ingestion
// throughput for about 10 MB (measured with `candor bench ingest`, GOGC
// 100 and 200 interleaved).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	tuneGC()
	fs := newFlags("serve", stderr)
	cfg := Config{Stdout: stdout, Stderr: stderr}
	fs.StringVar(&cfg.PolicyFile, "config", env("CANDOR_CONFIG", ""), "policy file (CANDOR_CONFIG); default candor.yaml, or the demo policy with -demo")
	data, db := storeFlags(fs)
	fs.StringVar(&cfg.Addr, "addr", env("CANDOR_ADDR", "127.0.0.1:8080"), "address to listen on (CANDOR_ADDR)")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", env("CANDOR_ADMIN_ADDR", ""), "address for /metrics (CANDOR_ADMIN_ADDR); empty serves it on -addr")
	fs.BoolVar(&cfg.Demo, "demo", false, "load the demo policy and a demo shop with synthetic customers")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.DataDir, cfg.DB = *data, *db
	var err error
	if cfg.Store, err = storeConfigFromEnv(*data, *db); err != nil {
		return err
	}
	if !cfg.Demo && cfg.PolicyFile == "" {
		cfg.PolicyFile = "candor.yaml"
		if _, err := os.Stat(cfg.PolicyFile); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, noPolicyHelp("serve"))
			return errUsage
		}
	}
	if cfg.AdminKey, err = secret("CANDOR_ADMIN_KEY"); err != nil {
		return err
	}
	if cfg.WriteKey, err = secret("CANDOR_WRITE_KEY"); err != nil {
		return err
	}
	if cfg.SMTPURL, err = secret("CANDOR_SMTP_URL"); err != nil {
		return err
	}
	cfg.SMTPFrom = os.Getenv("CANDOR_SMTP_FROM")
	cfg.TLSCert, cfg.TLSKey = os.Getenv("CANDOR_TLS_CERT"), os.Getenv("CANDOR_TLS_KEY")
	if cfg.SMSURL, err = secret("CANDOR_SMS_URL"); err != nil {
		return err
	}
	if cfg.SMSSecret, err = secret("CANDOR_SMS_SECRET"); err != nil {
		return err
	}
	if cfg.MailEventsSecret, err = secret("CANDOR_MAIL_EVENTS_SECRET"); err != nil {
		return err
	}
	cfg.NoTriggers = os.Getenv("CANDOR_TRIGGERS") == "off"
	cfg.PublicURL = os.Getenv("CANDOR_PUBLIC_URL")
	if f := os.Getenv("CANDOR_DKIM_KEY_FILE"); f != "" {
		// Only the file's name is configured: the key never passes
		// through a flag, a URL or a log.
		if cfg.DKIM, err = smtp.LoadDKIM(f, os.Getenv("CANDOR_DKIM_DOMAIN"), os.Getenv("CANDOR_DKIM_SELECTOR")); err != nil {
			return err
		}
	}
	if v := os.Getenv("CANDOR_INGEST_QUEUE"); v != "" {
		if cfg.IngestQueue, err = strconv.Atoi(v); err != nil || cfg.IngestQueue < 1 {
			return fmt.Errorf("CANDOR_INGEST_QUEUE: want a positive number of events")
		}
	}
	if v := os.Getenv("CANDOR_PIPL_DAYS"); v != "" {
		if cfg.PIPLDays, err = strconv.Atoi(v); err != nil || cfg.PIPLDays < 1 || cfg.PIPLDays > 90 {
			return fmt.Errorf("CANDOR_PIPL_DAYS: want a number of days from 1 to 90")
		}
	}
	return Run(ctx, cfg)
}

// loadPolicy loads the policy file, or the demo policy.
func loadPolicy(file string) (*candor.Policy, error) {
	var p *candor.Policy
	var findings []policy.Finding
	if file == "" {
		p, findings = policy.Parse("examples/candor.yaml", examples.Policy)
	} else {
		var err error
		if p, findings, err = policy.Load(file); err != nil {
			return nil, err
		}
	}
	if len(findings) > 0 {
		var b strings.Builder
		for _, f := range findings {
			b.WriteString(f.String() + "\n")
		}
		return nil, fmt.Errorf("the policy has %d problem(s); run candor check:\n%s", len(findings), strings.TrimSuffix(b.String(), "\n"))
	}
	return p, nil
}

// Run runs the server until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = cfg.Stderr
	}
	log := slog.New(slog.NewJSONHandler(cfg.Log, nil))
	tlsConfig, err := loadTLS(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(cfg.PolicyFile)
	if err != nil {
		return err
	}
	sc := cfg.Store
	sc.DataDir, sc.DB = cfg.DataDir, cfg.DB
	// The demo without a mail server sends its campaign e-mail to a sink
	// on loopback that delivers nothing (verification codes are printed
	// still), and makes its links to this server's own address.
	var sink *demo.MailSink
	campaignSMTP, publicURL := "", cfg.PublicURL
	if cfg.Demo && cfg.SMTPURL == "" {
		if sink, err = demo.NewMailSink(); err != nil {
			return fmt.Errorf("demo mail sink: %w", err)
		}
		defer sink.Close()
		campaignSMTP = sink.URL
	}
	if cfg.Demo && publicURL == "" {
		publicURL = demoPublicURL(cfg.Addr, tlsConfig != nil)
	}
	a, err := app.Open(ctx, app.Config{Policy: pol, Stores: sc, CreateMasterKey: true, Log: log, Stdout: cfg.Stdout, Stderr: cfg.Stderr,
		Demo: cfg.Demo, SMTPURL: cfg.SMTPURL, SMTPFrom: cfg.SMTPFrom, SMSURL: cfg.SMSURL, SMSSecret: cfg.SMSSecret,
		CampaignSMTPURL: campaignSMTP, PublicURL: publicURL, DKIM: cfg.DKIM,
		IngestQueue: cfg.IngestQueue, IngestBaseline: cfg.ingestBaseline, PIPLDays: cfg.PIPLDays, NoTriggers: cfg.NoTriggers})
	if err != nil {
		return err
	}
	// Runs after the HTTP server has drained: commits what the collector
	// accepted.
	defer a.Close()
	st, now, notices, apiKeys := stackOf(a.Stores), a.Now, a.Notices, a.APIKeys

	// The demo keeps its keys in the data directory (demo only), so that a
	// restart can say where they are although only their hashes are
	// stored.
	ak, wk := newAPIKey(cfg.AdminKey), newAPIKey(cfg.WriteKey)
	if cfg.Demo {
		if err := ak.demo(demoKeyFile(cfg.DataDir)); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := wk.demo(demoWriteKeyFile(cfg.DataDir)); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if ak.key, err = ak.ensure(ctx, apiKeys, "admin", candor.RoleAdmin); err != nil {
		return fmt.Errorf("admin key: %w", err)
	}
	if wk.key, err = wk.ensure(ctx, apiKeys, "write", candor.RoleWrite); err != nil {
		return fmt.Errorf("write key: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &chttp.Server{
		Policy: pol, Store: st.store, APIKeys: apiKeys, Subjects: a.Subjects, Ledger: a.Ledger, Gate: a.Gate, Collector: a.Collector, Rights: a.Rights, Verifier: a.Verifier, Auditor: st.audit,
		Segments: a.Segments, Campaigns: a.Campaigns, SMSSecret: []byte(cfg.SMSSecret), MailEventsSecret: []byte(cfg.MailEventsSecret),
		AuditKeys: st.auditKeys, JWKs: []map[string]string{a.ReceiptSigner.JWK(), st.auditSig.JWK()},
		Metrics: reg, MetricsOnMain: cfg.AdminAddr == "", Logger: log, Now: now,
	}
	api := srv.Handler()
	sdkKey := ""
	if cfg.Demo {
		if sdkKey, err = demoSDKKey(ctx, apiKeys, cfg.DataDir); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	site := &web.Server{Policy: pol, Store: st.store, Notices: notices, Ledger: a.Ledger, Gate: a.Gate, Rights: a.Rights, Segments: a.Segments, Campaigns: a.Campaigns, Verifier: a.Verifier,
		Auditor: st.audit, Sessions: st.store, Staff: newStaff(st, pol), Subjects: a.Subjects, AuditKeys: st.auditKeys, CSRFKey: st.vault.BlindIndex("web", "csrf"), SDKKey: sdkKey, IdentitySecret: identitySecret(st), Throttled: srv.CountThrottled, Logger: log, Now: now}
	pages := site.Handler()
	pctx, stopPurge := context.WithCancel(context.Background())
	purged := make(chan struct{})
	go func() { defer close(purged); site.PurgeSessions(pctx, 10*time.Minute) }()
	defer func() { stopPurge(); <-purged }()
	top := http.NewServeMux()
	top.Handle("/", api)
	for _, p := range web.Prefixes {
		top.Handle(p, pages)
	}
	handler := srv.LimitHeaders(top)

	if cfg.Demo {
		n := cfg.DemoSize
		if n == 0 {
			n = 1000
		}
		if err := seedDemo(ctx, st, a.Subjects, a.Ledger, a.Collector, notices, pol, n, cfg.Stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := demoSegments(ctx, a.Segments, pol); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := demoCampaign(ctx, a.Campaigns, a.Segments, pol, sink, cfg.Stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := demoStaff(ctx, site.Staff, cfg.DataDir, cfg.Stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		// Hand the set-up's garbage back to the system now rather than
		// at the runtime's leisure: a newcomer's first look at the
		// process should show what it needs to idle.
		debug.FreeOSMemory()
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: chttp.ServerMaxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), TLSConfig: tlsConfig}
	errc := make(chan error, 2)
	if tlsConfig != nil {
		go func() { errc <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	var admin *http.Server
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- admin.Serve(aln) }()
	}
	addr := ln.Addr().String()
	printBanner(cfg, addr, tlsConfig != nil, ak, wk, notices)
	log.Info("listening", "addr", addr, "policy", pol.Source, "notice", notices.Current().Version)
	if cfg.Ready != nil {
		cfg.Ready(addr)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	if admin != nil {
		admin.Shutdown(sctx)
	}
	log.Info("stopped")
	return err
}

// apiKey is one of the keys serve ensures: given (in the environment or
// the Config), kept in the demo's data directory, or new.
type apiKey struct {
	given     string // the key to store; empty: generate one unless a key of the name exists
	fromUser  bool   // the operator gave it
	file      string // the demo's file that keeps it
	kept      bool   // read from file
	generated bool   // generated for the demo's file
	key       string // new: shown once
}

func newAPIKey(given string) apiKey { return apiKey{given: given, fromUser: given != ""} }

// demo takes the key from the demo's file, unless one was given; a key it
// generates is written there once it is stored.
func (k *apiKey) demo(file string) error {
	if k.fromUser {
		return nil
	}
	k.file = file
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		k.given, k.generated = apikeys.Generate(), true
		return nil
	}
	if err != nil {
		return err
	}
	k.given, k.kept = strings.TrimSpace(string(b)), true
	return nil
}

func (k *apiKey) ensure(ctx context.Context, apiKeys *apikeys.Service, name, role string) (string, error) {
	key, err := apiKeys.Ensure(ctx, name, role, k.given)
	if err != nil || !k.generated {
		return key, err
	}
	if err := writePrivateFile(k.file, []byte(k.given+"\n")); err != nil {
		return "", err
	}
	return k.given, nil
}

// loadTLS reads the certificate and key that serve HTTPS; neither: plain
// HTTP.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("CANDOR_TLS_CERT and CANDOR_TLS_KEY: set both, or neither")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("CANDOR_TLS_CERT, CANDOR_TLS_KEY: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// baseURL is the URL to print for a server listening at addr (as the
// listener reports it) for the configured address: an unspecified host
// (all interfaces) becomes the loopback address, which a browser on this
// machine can open. all reports that it listens on every interface, and
// local that the host is a loopback one.
func baseURL(configured, addr string, https bool) (url string, all, local bool) {
	scheme := "http"
	if https {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr, false, false
	}
	chost, _, _ := net.SplitHostPort(configured)
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
		all, local = true, true
		host = "127.0.0.1"
		if cip := net.ParseIP(chost); cip != nil && cip.To4() == nil && cip.IsUnspecified() {
			host = "::1" // -addr [::]:PORT: IPv6 only, perhaps
		}
	case ip != nil:
		local = ip.IsLoopback()
	default:
		local = host == "localhost" || strings.HasSuffix(host, ".localhost")
	}
	return scheme + "://" + net.JoinHostPort(host, port), all, local
}

func printBanner(cfg Config, addr string, https bool, admin, write apiKey, notices *consent.Notices) {
	w := cfg.Stdout
	base, all, local := baseURL(cfg.Addr, addr, https)
	fmt.Fprintf(w, "Candor is running on %s (notice version %s)\n", base, notices.Current().Version)
	if all {
		_, port, _ := net.SplitHostPort(addr)
		fmt.Fprintf(w, "It listens on all interfaces: other machines reach it at this machine's address, port %s.\n", port)
	}
	if !https && (all || !local) {
		fmt.Fprintln(w, `Over plain HTTP, browsers keep the portal's and the console's secure cookies only at localhost:
from another machine every form there would fail ("This form has expired"). To be reached from
elsewhere, serve HTTPS: set CANDOR_TLS_CERT and CANDOR_TLS_KEY to the files of a certificate and its
key (or put Candor behind a proxy that terminates TLS).`)
	}
	if admin.key != "" || write.key != "" {
		fmt.Fprintln(w, "\nNew API keys, shown once. Keep them safe; only their hashes are stored:")
		if admin.key != "" {
			fmt.Fprintf(w, "  admin key: %s\n", admin.key)
		}
		if write.key != "" {
			fmt.Fprintf(w, "  write key: %s\n", write.key)
		}
	}
	var kept []string
	for _, k := range []struct {
		name string
		k    apiKey
	}{{"admin key", admin}, {"write key", write}} {
		if k.k.file != "" {
			kept = append(kept, fmt.Sprintf("%s: %s", k.name, k.k.file))
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(w, "\nThe demo keeps its keys in its data directory (demo only: elsewhere only their hashes are stored):\n  %s\n", strings.Join(kept, "\n  "))
	}
	if !cfg.Demo && (admin.key == "" && !admin.fromUser || write.key == "" && !write.fromUser) {
		fmt.Fprintln(w, `
The API keys were printed at the first start; only their hashes are stored. To replace a lost write key,
issue one with the admin key: POST /v1/apikeys {"name":"write","role":"write"} (DELETE /v1/apikeys/{id}
revokes the old one); to replace a lost admin key, start with CANDOR_ADMIN_KEY set to a new one.`)
	}
	if cfg.Demo {
		fmt.Fprintf(w, `
Open in a browser:
  the demo shop       %[1]s/demo
  the privacy portal  %[1]s/privacy  (the demo sends no e-mail or SMS: codes are printed here)
                      sign in as a demo customer: %[4]s (e-mail) or %[5]s (phone)
  the staff console   %[1]s/console  (%[2]s; the password is in %[3]s)
`, base, demoStaffEmail, demoStaffFile(cfg.DataDir), demo.Showcase[0].Email, demo.Showcase[1].Phone)
	}
	fmt.Fprint(w, "\nTry:\n")
	if cfg.Demo {
		fmt.Fprintf(w, "  export ADMIN_KEY=$(cat %s) WRITE_KEY=$(cat %s)\n", demoKeyFile(cfg.DataDir), demoWriteKeyFile(cfg.DataDir))
	}
	fmt.Fprintf(w, `  curl %[2]s%[1]s/v1/notice?lang=en
  curl %[2]s%[1]s/.well-known/candor/keys.json
  curl %[2]s-H "Authorization: Bearer $ADMIN_KEY" "%[1]s/v1/audit/verify"
  curl %[2]s%[1]s/v1/openapi.json
`, base, map[bool]string{true: "-k ", false: ""}[https && local])
}

const demoStaffEmail = "admin@demo.example"

func demoStaffFile(dir string) string { return strings.TrimSuffix(dir, "/") + "/demo-staff-password" }

// demoStaff gives the demo a console admin when it has no staff yet, with
// a random password kept in the data directory (demo only); the second
// factor is set up at the first sign-in, as for anyone.
func demoStaff(ctx context.Context, svc *staff.Service, dir string, out io.Writer) error {
	list, err := svc.List(ctx)
	if err != nil || len(list) > 0 {
		return err
	}
	pw := strings.ToLower(strings.TrimPrefix(apikeys.Generate(), apikeys.Prefix))[:24]
	if _, err := svc.Add(staff.WithActor(ctx, "demo"), demoStaffEmail, "Demo admin", candor.RoleAdmin, pw); err != nil {
		return err
	}
	if err := writePrivateFile(demoStaffFile(dir), []byte(pw+"\n")); err != nil {
		return err
	}
	fmt.Fprintf(out, "Console admin %s created; its password is in %s.\n", demoStaffEmail, demoStaffFile(dir))
	return nil
}

// demoSDKKey returns the write key the demo shop's page uses: a key of its
// own, kept in the data directory (demo only), so that the page works after
// a restart although only the hashes of keys are stored.
func demoSDKKey(ctx context.Context, apiKeys *apikeys.Service, dir string) (string, error) {
	f := strings.TrimSuffix(dir, "/") + "/demo-sdk-key"
	key := apikeys.Generate()
	if b, err := os.ReadFile(f); err == nil {
		key = strings.TrimSpace(string(b))
	} else if err := writePrivateFile(f, []byte(key+"\n")); err != nil {
		return "", err
	}
	if _, err := apiKeys.Ensure(ctx, "demo-sdk", candor.RoleBrowser, key); err != nil {
		return "", err
	}
	return key, nil
}

func demoKeyFile(dir string) string { return strings.TrimSuffix(dir, "/") + "/demo-admin-key" }

func demoWriteKeyFile(dir string) string { return strings.TrimSuffix(dir, "/") + "/demo-write-key" }
