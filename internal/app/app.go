// Package app wires Candor's parts together, in one place: the store, the
// vault, the audit log, the consent ledger with every callback that keeps
// it true (a subject's change invalidates its cached state; on a shared
// store, so does a change through another node), the subjects service, the
// gate, the collector, the rights service with its webhook notifier and
// verifier, and the API keys. `candor serve`, `candor bench` and the test
// harness all open an [App], so none of them can forget a part.
//
// The HTTP handlers (the API, the portal and the console, and the staff
// service behind the console) are built by cmd/candor from an App's parts:
// web and staff are tested with the test harness from inside their own
// packages, which could then not import a package that imports them.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/segment"
	"github.com/candorhq/candor/sms"
	"github.com/candorhq/candor/smtp"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/vault"
	"github.com/candorhq/candor/verify"
	"github.com/candorhq/candor/webhook"
)

// Config is what [Open] needs. Every field is set in code: the command
// line reads flags and the environment into it, tests build one.
type Config struct {
	// Policy is the loaded, checked policy. Required.
	Policy *candor.Policy
	// Stores names the store and the master key, unless Store is set.
	Stores StoreConfig
	// CreateMasterKey creates the master key in Stores.DataDir when no
	// master key file is named and there is none yet.
	CreateMasterKey bool
	// Store, when set, is an open store to use instead of opening the one
	// Stores names (Stores then names only the master key); the caller
	// closes it after [App.Close].
	Store candor.Store
	// AuditStore keeps the audit log apart from the data; default the
	// store.
	AuditStore candor.AuditStore

	Now    func() time.Time // default time.Now
	Log    *slog.Logger     // default none
	Stdout io.Writer        // the demo's verification codes; default none
	Stderr io.Writer        // the warning for a generated master key; default none

	// Demo prints verification codes to Stdout when no SMTP server or SMS
	// gateway is configured.
	Demo bool
	// SMTPURL and SMTPFrom configure the e-mail that carries verification
	// codes; SMTPFrom defaults to the policy's contact.
	SMTPURL, SMTPFrom string
	// CampaignSMTPURL, when set, is where campaign e-mail goes instead of
	// SMTPURL: the demo's local mail sink, while its verification codes
	// are still printed.
	CampaignSMTPURL string
	// SMSURL and SMSSecret configure the SMS gateway that carries codes
	// to phones, and campaigns' text messages.
	SMSURL, SMSSecret string
	// PublicURL is where people reach Candor (CANDOR_PUBLIC_URL): the
	// links in campaign messages start with it. Without it, campaigns
	// cannot be sent.
	PublicURL string
	// DKIM signs campaign e-mail (CANDOR_DKIM_KEY_FILE, _DOMAIN,
	// _SELECTOR); nil sends unsigned, which receivers such as Gmail and
	// Yahoo refuse from bulk senders.
	DKIM *smtp.DKIM
	// IngestQueue bounds the events accepted but not yet committed;
	// beyond it the collector answers 429. Default collect's.
	IngestQueue int
	// IngestBaseline stores events with every privacy step switched off:
	// for `candor bench ingest` only.
	IngestBaseline bool
	// PIPLDays is the deadline for data-subject requests under PIPL, from
	// 1 to 90 days; 0: rights.DefaultPIPLDays.
	PIPLDays int
	// NoJobs leaves the background jobs (the webhook notifier, the
	// watchdog of overdue requests) stopped: for tests that drive their
	// own.
	NoJobs bool
	// NoTriggers leaves the triggered messages of the policy unsent
	// (CANDOR_TRIGGERS=off): the other jobs run.
	NoTriggers bool
}

// App is Candor's parts, wired. Its fields are for reading; [Open] sets
// them and [App.Close] closes them.
type App struct {
	*Stores // the store, the vault, the audit signer and the audit log

	Policy        *candor.Policy
	Notices       *consent.Notices
	ReceiptSigner *vault.Signer // signs consent receipts
	Ledger        *consent.Ledger
	Subjects      *subjects.Service
	Gate          *gate.Gate
	Collector     *collect.Collector
	Notifier      *webhook.Notifier
	Rights        *rights.Service
	Segments      *segment.Service
	Verifier      *verify.Verifier
	Campaigns     *campaign.Service
	APIKeys       *apikeys.Service
	Log           *slog.Logger
	Now           func() time.Time

	stopFeed func()
	stopJobs context.CancelFunc
	jobs     sync.WaitGroup
}

// Open opens the stores and wires every part on them, finishes any erasure
// or API key revocation its journal shows was interrupted, and starts the
// background jobs unless cfg.NoJobs. Close the App when done.
func Open(ctx context.Context, cfg Config) (_ *App, err error) {
	if cfg.Policy == nil {
		return nil, errors.New("app: Open without a Policy")
	}
	if cfg.PIPLDays < 0 || cfg.PIPLDays > 90 {
		return nil, fmt.Errorf("app: PIPLDays %d: want a number of days from 1 to 90", cfg.PIPLDays)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	var st *Stores
	if cfg.Store != nil {
		st, err = openKeys(ctx, cfg.Store, cfg.Stores, cfg.CreateMasterKey, cfg.Stderr)
	} else {
		st, err = OpenStores(ctx, cfg.Stores, cfg.CreateMasterKey, cfg.Stderr)
	}
	if err != nil {
		return nil, err
	}
	a := &App{Stores: st, Policy: cfg.Policy, Log: cfg.Log, Now: cfg.Now, stopFeed: func() {}, stopJobs: func() {}}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := st.OpenAudit(cfg.AuditStore, cfg.Log); err != nil {
		return nil, err
	}
	if err := a.wire(ctx, cfg); err != nil {
		return nil, err
	}
	// Finish any erasure interrupted after its key was destroyed.
	if n, err := rights.ReplayErasures(ctx, st.Store); err != nil {
		return nil, fmt.Errorf("erasure journal: %w", err)
	} else if n > 0 {
		cfg.Log.Warn("finished interrupted erasures from the journal", "subjects", n)
	}
	// Finish any revocation interrupted between the journal and the data
	// store (the journal alone already refuses the key).
	if n, err := apikeys.Replay(ctx, st.Store, st.Store.Keys()); err != nil {
		return nil, fmt.Errorf("revocation journal: %w", err)
	} else if n > 0 {
		cfg.Log.Warn("revoked API keys again from the revocation journal", "keys", n)
	}
	if !cfg.NoJobs {
		a.startJobs(cfg.NoTriggers)
	}
	return a, nil
}

// wire builds the parts on the open stores.
func (a *App) wire(ctx context.Context, cfg Config) error {
	st, pol, now, log := a.Stores, a.Policy, a.Now, a.Log
	var err error
	if a.Notices, err = consent.LoadNotices(ctx, st.Store, policy.NewNotice(pol), now()); err != nil {
		return err
	}
	if a.ReceiptSigner, err = st.Vault.Signer(ctx, ReceiptSigningKey); err != nil {
		return err
	}
	// Several nodes write a shared store: a cached state is trusted while
	// the store's change feed is fresh, and checked against the subject's
	// version before each decision when it is not.
	a.Ledger = consent.New(consent.Options{Store: st.Store, Sealer: st.Vault, BirthDates: gate.BirthDates(st.Store, st.Vault, pol), Policy: pol, Notices: a.Notices,
		Signer: a.ReceiptSigner, Auditor: st.Audit, Now: now, Shared: st.Shared})
	a.stopFeed = watch(st.Store, a.Ledger)
	// A change to a subject (its traits, its identifiers, its erasure)
	// drops the ledger's cached state of it.
	a.Subjects = subjects.New(subjects.Options{Store: st.Store, Vault: st.Vault, Policy: pol, Auditor: st.Audit, Now: now, Changed: a.Ledger.Invalidate})
	a.Gate = gate.New(gate.Options{Policy: pol, Ledger: a.Ledger, Store: st.Store, Unsealer: st.Vault, Auditor: st.Audit, Now: now})
	writers := 1
	if st.Shared {
		writers = 4 // PostgreSQL commits several batches at once
	}
	newCollector := collect.New
	if cfg.IngestBaseline {
		newCollector = collect.NewBaseline // the benchmark's point of comparison only
	}
	a.Collector = newCollector(collect.Options{Policy: pol, Store: st.Store, Subjects: a.Subjects, Ledger: a.Ledger, Gate: a.Gate, Sealer: st.Vault, Index: st.Vault.BlindIndex, Now: now,
		Logger: log, Writers: writers, Queue: cfg.IngestQueue, IdentitySecret: IdentitySecret(st.Vault)})
	a.Notifier = webhook.NewNotifier(webhook.NotifierOptions{Store: st.Store, Policy: pol, Now: now, Logger: log,
		Secret: func(recipient string) []byte { return WebhookSecret(st.Vault, recipient) }, Gate: a.Gate})
	a.Rights = rights.New(rights.Options{Policy: pol, Store: st.Store, Vault: st.Vault, Ledger: a.Ledger, Subjects: a.Subjects, Auditor: st.Audit, Now: now,
		Notifier: a.Notifier, Gate: a.Gate, PIPLDays: cfg.PIPLDays})
	if a.Verifier, err = newVerifier(cfg, st, a.Gate); err != nil {
		return err
	}
	a.APIKeys = apikeys.New(st.Store, st.Store.Keys(), 0)
	a.Segments = segment.New(segment.Options{Policy: pol, Store: st.Store, Gate: a.Gate, Now: now})
	if a.Campaigns, err = newCampaigns(cfg, st, a.Gate, a.Ledger, a.Segments); err != nil {
		return err
	}
	return nil
}

// CampaignKey is the HMAC key of the links in campaign messages
// (unsubscribe, confirm): derived from the blind-index key, so the same on
// every node.
func CampaignKey(v *vault.Vault) []byte { return v.BlindIndex("campaign-links", "v1") }

// newCampaigns wires campaigns: e-mail through a pool of SMTP connections
// (signed with DKIM when configured), text messages through the SMS
// gateway; a channel without its sender cannot start a campaign.
func newCampaigns(cfg Config, st *Stores, g *gate.Gate, ledger *consent.Ledger, segments *segment.Service) (*campaign.Service, error) {
	o := campaign.Options{Policy: cfg.Policy, Store: st.Store, Gate: g, Ledger: ledger, Auditor: st.Audit, Blind: st.Vault.BlindIndex, Audience: segments.Audience(),
		PublicURL: cfg.PublicURL, TokenKey: CampaignKey(st.Vault), Now: cfg.Now, Logger: cfg.Log}
	smtpURL := cfg.SMTPURL
	if cfg.CampaignSMTPURL != "" {
		smtpURL = cfg.CampaignSMTPURL
	}
	if smtpURL != "" {
		from := cfg.SMTPFrom
		if from == "" {
			from = cfg.Policy.Organization.Contact
		}
		pool, err := smtp.NewPool(smtpURL, from, 4, cfg.DKIM)
		if err != nil {
			return nil, err
		}
		o.Mail = pool
	}
	if cfg.SMSURL != "" {
		gw, err := sms.New(cfg.SMSURL, []byte(cfg.SMSSecret))
		if err != nil {
			return nil, err
		}
		o.SMS = gw
	}
	svc := campaign.New(o)
	if err := svc.CheckTriggers(); err != nil {
		return nil, err
	}
	return svc, nil
}

// watch makes the ledger hear of changes other nodes commit to a shared
// store, so that it can trust its cache while the feed is fresh, and
// returns what stops it. On the embedded store it does nothing.
func watch(store candor.Store, ledger *consent.Ledger) (stop func()) {
	db, ok := store.(*postgres.DB)
	if !ok {
		return func() {}
	}
	feed := db.Watch(postgres.FeedOptions{Changed: ledger.Invalidate, Reset: ledger.InvalidateAll})
	ledger.UseFeed(feed)
	return feed.Close
}

// startJobs runs the webhook notifier and the watchdog of overdue
// requests until Close.
func (a *App) startJobs(noTriggers bool) {
	ctx, cancel := context.WithCancel(context.Background())
	a.stopJobs = cancel
	a.jobs.Add(4)
	go func() { defer a.jobs.Done(); a.Notifier.Run(ctx) }()
	go func() { defer a.jobs.Done(); a.Campaigns.Run(ctx) }()
	go func() {
		defer a.jobs.Done()
		if !noTriggers {
			a.Campaigns.RunTriggers(ctx)
		}
	}()
	go func() { defer a.jobs.Done(); a.Rights.Watchdog(ctx, 10*time.Minute, a.Log) }()
}

// Close stops the background jobs, waits for codes being sent, commits
// the events the collector accepted, stops the change feed and closes the
// audit log and the store (unless [Config.Store] gave it). Stop serving
// requests first.
func (a *App) Close() error {
	a.stopJobs()
	a.jobs.Wait()
	if a.Verifier != nil {
		a.Verifier.Wait()
	}
	var err error
	if a.Collector != nil {
		err = a.Collector.Close()
	}
	a.stopFeed()
	return errors.Join(err, a.Stores.Close())
}

// newVerifier wires the one-time codes: e-mail over SMTP and text messages
// through the business's SMS gateway, each when configured; in the demo,
// a code without its channel is printed instead. Outside the demo, a
// channel that is not configured sends nothing (and says so in the log).
func newVerifier(cfg Config, st *Stores, g *gate.Gate) (*verify.Verifier, error) {
	pol, log := cfg.Policy, cfg.Log
	o := verify.Options{Store: st.Store, Blinder: st.Vault, Org: pol.Organization.Name, Gate: g, Now: cfg.Now, Logger: log}
	switch {
	case cfg.SMTPURL != "":
		from := cfg.SMTPFrom
		if from == "" {
			from = pol.Organization.Contact
		}
		sender, err := smtp.New(cfg.SMTPURL, from)
		if err != nil {
			return nil, err
		}
		o.Mail = sender
	case cfg.Demo:
		o.Mail = &verify.DevSender{W: cfg.Stdout, Channel: "e-mail"}
	default:
		log.Warn("CANDOR_SMTP_URL is not set: verification codes cannot be sent by e-mail")
	}
	switch {
	case cfg.SMSURL != "":
		gw, err := sms.New(cfg.SMSURL, []byte(cfg.SMSSecret))
		if err != nil {
			return nil, err
		}
		o.SMS = gw
	case cfg.Demo:
		o.SMS = &verify.DevSender{W: cfg.Stdout, Channel: "SMS"}
	default:
		log.Warn("CANDOR_SMS_URL is not set: verification codes cannot be sent to phones")
	}
	return verify.New(o), nil
}
