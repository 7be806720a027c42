package browser

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// strictCSP is the policy modshop's pages carry: no inline script or style.
const strictCSP = "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'"

// site serves the pages of these tests, all under strictCSP.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	doc := func(title, body string) string {
		return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title +
			`</title><script src="/app.js"></script></head><body><main><h1>` + title + `</h1>` + body + `</main></body></html>`
	}
	mux := http.NewServeMux()
	page := func(path, title, body string) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, doc(title, body))
		})
	}
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.addEventListener("DOMContentLoaded", () => { const p = document.getElementById("js"); if (p) p.textContent = "JavaScript ran"; });`)
	})
	page("/clean", "Clean", `<p id="js">no JavaScript</p>
<form method="post" action="/sign-in">
<label for="email">Email</label> <input id="email" name="email" type="email" autocomplete="email">
<label>City <input name="city" autocomplete="address-level2"></label>
<input name="note" aria-label="Note" value="typed before">
<label><input type="checkbox" name="remember" value="yes"> Remember me</label>
<button type="submit">Sign in</button>
</form>`)
	// The deliberate fault: a text field no label names.
	page("/fault", "Fault", `<p id="js">no JavaScript</p><form action="/search"><input name="q" type="text"><button>Search</button></form>`)
	// An inline script and an inline style, which strictCSP refuses.
	page("/violation", "Violation", `<p id="js" style="color: red">no JavaScript</p><script>document.title = "inline ran"</script>`)
	page("/error", "Error", `<p id="js">no JavaScript</p><script src="/missing.js"></script>`)
	mux.HandleFunc("POST /sign-in", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.FormValue("email"), Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/welcome?city="+r.FormValue("city")+"&note="+r.FormValue("note")+"&remember="+r.FormValue("remember"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /welcome", func(w http.ResponseWriter, r *http.Request) {
		who := "guest"
		if c, err := r.Cookie("who"); err == nil {
			who = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, doc("Welcome", `<p id="who">`+html.EscapeString(who)+`</p><p id="city">`+
			html.EscapeString(r.FormValue("city"))+`</p><p id="note">`+html.EscapeString(r.FormValue("note"))+`</p><p id="remember">`+
			html.EscapeString(r.FormValue("remember"))+`</p><p><a id="back" href="/clean">Back</a></p>`))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAxeFindsTheUnlabelledInputUnderStrictCSP(t *testing.T) {
	b := Start(t)
	srv := site(t)
	p := b.NewPage(t)
	p.Navigate(srv.URL+"/fault", "main")

	vs, err := AxeViolations(p.Context())
	if err != nil {
		t.Fatal(err)
	}
	var label *Violation
	for i := range vs {
		if vs[i].ID == "label" {
			label = &vs[i]
		}
	}
	if label == nil || !label.Blocking() || len(label.Nodes) != 1 || !strings.Contains(label.Nodes[0].HTML, `name="q"`) {
		t.Fatalf("axe did not report the unlabelled input as a serious or critical 'label' violation: %v", vs)
	}

	rec := &recorder{TB: t}
	if n := ReportViolations(rec, "/fault", vs); n == 0 || !rec.failed {
		t.Fatalf("ReportViolations did not fail the test: %d blocking, errors %q", n, rec.errors)
	}
	if msg := strings.Join(rec.errors, "\n"); !strings.Contains(msg, "label (critical)") || !strings.Contains(msg, "[input]") {
		t.Errorf("the failure does not name the rule and its element: %s", msg)
	}
	// Page.Axe fails its test the same way.
	rec = &recorder{TB: t}
	q := b.NewPage(rec)
	q.Navigate(srv.URL+"/fault", "main")
	q.Axe()
	if !rec.failed || !strings.Contains(strings.Join(rec.errors, "\n"), "label") {
		t.Errorf("Page.Axe did not fail on the unlabelled input: %q", rec.errors)
	}
}

func TestCleanPagePassesAxeWithNoProblems(t *testing.T) {
	b := Start(t)
	srv := site(t)
	p := b.NewPage(t)
	if status := p.Navigate(srv.URL+"/clean", "form"); status != 200 {
		t.Fatalf("status %d", status)
	}
	// Under the strict CSP the page's own script (script-src 'self') runs
	// and axe, injected by the DevTools protocol, runs too.
	if got := p.Text("#js"); got != "JavaScript ran" {
		t.Errorf("the page's script did not run: %q", got)
	}
	rec := &recorder{TB: t}
	vs, err := AxeViolations(p.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ReportViolations(rec, "/clean", vs) != 0 || rec.failed {
		t.Errorf("the clean page has violations: %v", vs)
	}
	p.Axe()
	p.ExpectNoProblems()
}

func TestProblemsListCSPViolationsAndFailedLoads(t *testing.T) {
	b := Start(t)
	srv := site(t)
	p := b.NewPage(t)
	p.Navigate(srv.URL+"/violation", "main")
	if title := p.Text("h1"); title != "Violation" {
		t.Fatalf("h1 %q", title)
	}
	if p.Title() == "inline ran" {
		t.Fatal("the inline script ran despite the CSP")
	}
	t.Log(p.WaitProblem("Content Security Policy directive 'script-src"))
	t.Log(p.WaitProblem("Content Security Policy directive 'style-src"))
	rec := &recorder{TB: t}
	q := b.NewPage(rec)
	q.Navigate(srv.URL+"/error", "main")
	t.Log(q.WaitProblem("404"))
	q.ExpectNoProblems()
	if !rec.failed || !strings.Contains(strings.Join(rec.errors, "\n"), "404") {
		t.Errorf("ExpectNoProblems did not fail on the missing script: %q", rec.errors)
	}
}

func TestFillSubmitAndSeparateCookies(t *testing.T) {
	b := Start(t)
	srv := site(t)
	for _, js := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", js), func(t *testing.T) {
			var opts []Option
			if !js {
				opts = append(opts, WithoutJavaScript())
			}
			admin := b.NewPage(t, append(opts, BaseURL(srv.URL))...)
			guest := b.NewPage(t, BaseURL(srv.URL+"/"))
			admin.Navigate("/clean", "form")
			want := map[bool]string{true: "JavaScript ran", false: "no JavaScript"}[js]
			if got := admin.Text("#js"); got != want {
				t.Errorf("#js = %q, want %q", got, want)
			}
			admin.Fill("Email", "ann@example.com") // <label for>
			admin.Fill("City", "Ghent")            // a label around the field
			admin.Fill("note", "kept")             // by name, replacing the typed text
			admin.Click("input[name=remember]")
			admin.Submit("button[type=submit]")
			if u := admin.URL(); !strings.HasPrefix(u, srv.URL+"/welcome?") {
				t.Fatalf("after the submit the page is %s", u)
			}
			for sel, want := range map[string]string{"#who": "ann@example.com", "#city": "Ghent", "#note": "kept", "#remember": "yes"} {
				if got := admin.Text(sel); got != want {
					t.Errorf("%s = %q, want %q", sel, got, want)
				}
			}
			admin.Axe() // axe runs with the page's JavaScript off too
			admin.ExpectNoProblems()

			guest.Navigate("/welcome", "#who")
			if got := guest.Text("#who"); got != "guest" {
				t.Errorf("the second page shares the first one's cookie: %q", got)
			}
			guest.Follow("#back")
			if u := guest.URL(); u != srv.URL+"/clean" || !guest.Exists("form") || guest.Exists("#who") {
				t.Errorf("following the link led to %s", u)
			}
		})
	}
}

func TestScreenshotWritesAPNG(t *testing.T) {
	b := Start(t)
	srv := site(t)
	p := b.NewPage(t)
	p.Navigate(srv.URL+"/clean", "main")

	path := p.Screenshot("clean")
	isPNG(t, path)
	if filepath.Base(path) != "clean.png" {
		t.Errorf("path %s", path)
	}

	dir := filepath.Join(t.TempDir(), "docs", "screenshots")
	t.Setenv(ScreenshotDirEnv, dir)
	path = p.Screenshot("storefront-home.png")
	if path != filepath.Join(dir, "storefront-home.png") {
		t.Errorf("with %s set the screenshot is at %s", ScreenshotDirEnv, path)
	}
	isPNG(t, path)

	rec := &recorder{TB: t}
	runAs(func() { b.NewPage(rec).Screenshot("../escape") })
	if !rec.failed {
		t.Error("a screenshot name with a path was accepted")
	}
}

func isPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 1000 {
		t.Errorf("%s is not a PNG of a page (%d bytes)", path, len(b))
	}
}

// TestStartSkipsOrFailsWithoutChromium needs no browser: CI=true fails,
// anything else skips with the one-line message.
func TestStartSkipsOrFailsWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, ci := range []string{"", "false", "true"} {
		t.Setenv("CI", ci)
		rec := &recorder{TB: t}
		runAs(func() { Start(rec) })
		switch {
		case ci == "true" && (!rec.failed || rec.skipped):
			t.Errorf("CI=true: Start did not fail: %+v", rec)
		case ci != "true" && (!rec.skipped || rec.failed || rec.skipMsg != SkipMessage):
			t.Errorf("CI=%q: Start did not skip with the message: %+v", ci, rec)
		}
	}
}

func TestXPathLiteral(t *testing.T) {
	for in, want := range map[string]string{
		`Email`:        `"Email"`,
		`Ann's "name"`: `concat("Ann's ", '"', "name", '"', "")`,
		`say "hi"`:     `'say "hi"'`,
	} {
		if got := xpathLiteral(in); got != want {
			t.Errorf("xpathLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAxeIsThePinnedVersion(t *testing.T) {
	sum := sha256.Sum256([]byte(axeSource))
	if got := hex.EncodeToString(sum[:]); got != axeSHA256 {
		t.Errorf("axe/axe.min.js has sha256 %s, want %s (axe/README.md)", got, axeSHA256)
	}
	if !strings.HasPrefix(axeSource, "/*! axe v"+AxeVersion+"\n") {
		t.Errorf("axe/axe.min.js is not axe %s: %.40q", AxeVersion, axeSource)
	}
}

// recorder is a testing.TB that records failures and skips instead of
// acting on them, so that the kit's failure paths can be tested. Fatal and
// Skip end the goroutine, as they do in a test: run such code with runAs.
type recorder struct {
	testing.TB
	mu              sync.Mutex
	errors          []string
	failed, skipped bool
	skipMsg         string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skip(args ...any) {
	r.mu.Lock()
	r.skipped, r.skipMsg = true, fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// runAs runs f in a goroutine of its own, so that a Fatal or Skip of the
// recorder ends only f.
func runAs(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
