package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// BrowserPath returns the chromium or Chrome binary the browser tests use:
// $CANDOR_CHROMIUM, else /usr/bin/chromium, else chromium, chromium-browser
// or google-chrome found in PATH; "" when there is none.
func BrowserPath() string {
	if p := os.Getenv("CANDOR_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser starts a headless chromium (see [BrowserPath]) with a fresh
// profile in a temporary directory and a 1280x900 window, and returns the
// context of its first tab, for chromedp actions. The browser is closed
// when the test ends. Without a browser the test is skipped, unless
// CANDOR_REQUIRE_BROWSER=1, which makes it fail.
//
// Uncaught JavaScript exceptions and console errors of every tab opened
// from the context are logged when the test fails.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	path := BrowserPath()
	if path == "" {
		if os.Getenv("CANDOR_REQUIRE_BROWSER") == "1" {
			tb.Fatal("no browser: install chromium or set CANDOR_CHROMIUM (CANDOR_REQUIRE_BROWSER=1)")
		}
		tb.Skip("no browser: install chromium or set CANDOR_CHROMIUM")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root
		chromedp.UserDataDir(filepath.Join(tb.TempDir(), "profile")),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "en-US"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	pageLog := &browserLog{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(pageLog.listen))
	tb.Cleanup(func() {
		if tb.Failed() {
			if s := pageLog.String(); s != "" {
				tb.Logf("browser console:\n%s", s)
			}
		}
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		chromedp.Cancel(cctx)
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser, bound to ctx: a timeout on it would
	// end the browser too, so the wait is bounded by a timer instead.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("starting %s: %v", path, err)
		}
	case <-time.After(30 * time.Second):
		tb.Fatalf("starting %s: no answer in 30s", path)
	}
	browserLogs.Store(chromedp.FromContext(ctx).Browser, pageLog)
	return ctx
}

// browserLogs finds the log of the browser a tab belongs to.
var browserLogs sync.Map // *chromedp.Browser → *browserLog

// Tab opens a new tab in a new browser context of the browser that ctx
// (from [Browser]) runs: a visitor of its own, with empty storage and
// cookies. The tab is closed when the test ends.
func Tab(tb testing.TB, ctx context.Context) context.Context {
	tb.Helper()
	var opts []chromedp.ContextOption
	if c := chromedp.FromContext(ctx); c != nil {
		if l, ok := browserLogs.Load(c.Browser); ok {
			opts = append(opts, chromedp.WithListener(l.(*browserLog).listen))
		}
	}
	opts = append(opts, chromedp.WithNewBrowserContext())
	tctx, cancel := chromedp.NewContext(ctx, opts...)
	tb.Cleanup(cancel)
	if err := chromedp.Do(tctx); err != nil {
		tb.Fatalf("new tab: %v", err)
	}
	return tctx
}

// EnableGPC makes the tab of ctx behave as a browser that sends the Global
// Privacy Control signal: navigator.globalPrivacyControl is true in every
// page loaded from now on, and every request carries Sec-GPC: 1. Chromium
// has no switch for it, so a script runs before the page's own.
func EnableGPC(tb testing.TB, ctx context.Context) {
	tb.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});`,
	}); err != nil {
		tb.Fatalf("GPC script: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Sec-GPC": "1"},
	}); err != nil {
		tb.Fatalf("Sec-GPC header: %v", err)
	}
}

// Screenshot saves a PNG of the whole page of ctx's tab as NAME.png in the
// directory that CANDOR_SCREENSHOTS names; without it, it does nothing.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	dir := os.Getenv("CANDOR_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, fullPage)
	if err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
		return
	}
	f := filepath.Join(dir, name+".png")
	if err := os.WriteFile(f, buf, 0o644); err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
		return
	}
	tb.Logf("screenshot: %s", f)
}

// fullPage captures the whole page as a PNG once its animations are done.
// The viewport is stretched to the page's height for the capture (rather
// than capturing beyond it), so that fixed elements such as a modal's
// backdrop cover the page as they would on a screen that tall.
func fullPage(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	settle := `window.scrollTo(0, 0); Promise.race([
		Promise.all(document.getAnimations().map(a => a.finished.catch(() => {}))),
		new Promise(r => setTimeout(r, 2000)),
	]).then(() => true)`
	if _, err := chromedp.Evaluate[bool](settle, chromedp.EvalAwaitPromise)(ctx, t); err != nil {
		return nil, err
	}
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	w, h := int64(1280), int64(900)
	if v := m.CSSLayoutViewport; v != nil {
		w, h = v.ClientWidth, v.ClientHeight
	}
	if c := m.CSSContentSize; c != nil && int64(c.Height) > h {
		h = int64(c.Height)
	}
	if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1}); err != nil {
		return nil, err
	}
	defer cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// browserLog keeps the exceptions and console errors of a browser's tabs.
type browserLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *browserLog) listen(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		line = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			line += " " + d.Exception.Description
		}
		line += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, string(a.Value))
			}
		}
		line = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	default:
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(line + "\n")
}

func (l *browserLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
