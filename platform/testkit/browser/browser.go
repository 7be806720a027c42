// Package browser is the kit for tests that drive Debian's headless Chromium
// through chromedp: one shared browser process per test binary, a Page per
// tab with cookies of its own, storefront-journey helpers (navigate, click,
// fill, submit, read), axe-core accessibility checks, screenshots, and the
// console errors and CSP violations a page raised.
//
// Every helper fails the test (t.Fatalf) when the browser cannot do what was
// asked, so a journey reads as a list of steps with no error handling.
//
//	b := browser.Start(t) // skips without chromium, except with CI=true
//	guest := b.NewPage(t, browser.BaseURL(shop.URL))
//	guest.Navigate("/", "main")
//	guest.Fill("Email", "ann@example.com")
//	guest.Submit("button[type=submit]")
//	guest.Axe()
//	guest.ExpectNoProblems()
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// SkipMessage is the one line a test without chromium skips with.
const SkipMessage = "browser test skipped: no chromium in PATH (apt-get install chromium; .ci/run installs it)"

// DefaultTimeout bounds everything one Page does. Pages on this 2-core
// machine, shared with other builds, can take seconds each, so a journey of
// a dozen pages gets room; a hung wait still ends well before go test's own
// 10-minute timeout, with the step that hung in the message.
const DefaultTimeout = 2 * time.Minute

// startTimeout bounds starting Chromium.
const startTimeout = time.Minute

// Viewport is the size of every page, so that screenshots are stable.
const (
	ViewportWidth  = 1280
	ViewportHeight = 900
)

// Browser is the Chromium process that the tests of one binary share.
// Starting it takes seconds on a busy 2-core machine, so it starts once and
// each test opens pages (tabs in browser contexts of their own) in it.
type Browser struct {
	root  context.Context // the first tab; its allocator owns the process
	close func()          // stops the process; only for a browser that died
}

var shared struct {
	mu sync.Mutex
	b  *Browser
}

// Start returns the shared browser, starting it on first use. Without
// chromium in PATH the test skips with SkipMessage, except when the
// environment has CI=true: CI installs chromium, so a missing one is a
// failure there, never a silent skip.
//
// The process lives as long as the test binary (the kernel kills it when the
// binary exits: chromedp starts it with a parent-death signal); the pages a
// test opens are closed by that test's t.Cleanup.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no chromium in PATH: browser tests never skip in CI (.ci/run installs it): %v", err)
		}
		t.Skip(SkipMessage)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	// A browser that crashed or was closed is replaced rather than failing
	// every later test of the binary.
	if shared.b == nil || shared.b.root.Err() != nil {
		if shared.b != nil {
			shared.b.close()
		}
		b, err := launch(path)
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
		shared.b = b
	}
	return shared.b
}

// profilePrefix names the profile directories of this kit. The browser is
// never closed (the binary just exits), so nothing removes its profile then;
// the next launch removes those whose test binary is gone.
const profilePrefix = "modshop-chromium-"

func launch(path string) (*Browser, error) {
	sweepProfiles()
	dir, err := os.MkdirTemp("", profilePrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.DisableGPU,
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true), // stable screenshots
		chromedp.Flag("mute-audio", true),
	)
	// Neither context has a deadline: the first run binds the browser's life
	// to its context, and this one outlives every test.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(actx)
	cancel := func() { cancelRoot(); cancelAlloc() }
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(root) }()
	select {
	case err := <-done:
		if err != nil {
			cancel()
			return nil, err
		}
	case <-time.After(startTimeout):
		cancel()
		return nil, fmt.Errorf("chromium did not start within %s", startTimeout)
	}
	return &Browser{root: root, close: cancel}, nil
}

// sweepProfiles removes the profile directories of earlier test binaries
// that have exited.
func sweepProfiles() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), profilePrefix+"*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(dir), profilePrefix), "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // still running
		}
		_ = os.RemoveAll(dir) // best effort: the next launch tries again
	}
}

// Option configures a Page.
type Option func(*pageConfig)

type pageConfig struct {
	timeout time.Duration
	base    string
	noJS    bool
}

// Timeout bounds everything the page does (DefaultTimeout otherwise).
func Timeout(d time.Duration) Option { return func(c *pageConfig) { c.timeout = d } }

// BaseURL is prefixed to the URLs given to Navigate that start with "/".
func BaseURL(u string) Option {
	return func(c *pageConfig) { c.base = strings.TrimSuffix(u, "/") }
}

// WithoutJavaScript opens the page with script execution disabled, as a
// browser with JavaScript off: to prove that a journey works without it.
func WithoutJavaScript() Option { return func(c *pageConfig) { c.noJS = true } }
