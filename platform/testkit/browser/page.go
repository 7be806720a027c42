package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Page is one tab in a browser context of its own: its cookies, storage and
// cache are its own, so a test can hold a guest and an admin side by side.
// A Page belongs to the test that opened it; use it from that test's
// goroutine (the helpers call t.Fatalf). Pages of different tests, or two
// pages of one test, may run in parallel.
type Page struct {
	t    testing.TB
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
	shotDir  string // Screenshot's directory without MODSHOP_SCREENSHOT_DIR
	jsOff    bool   // SetJavaScriptEnabled(false)
}

// NewPage opens a tab in a new browser context (an incognito-like profile:
// no cookies shared with any other page). t.Cleanup closes the tab and
// disposes of the context. Everything the page does is bounded by
// DefaultTimeout, or by Timeout(d).
func (b *Browser) NewPage(t testing.TB, opts ...Option) *Page {
	t.Helper()
	cfg := pageConfig{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Page{t: t, base: cfg.base}
	// The listener is added before the tab's first command, so it sees
	// every event of the page from its first load on.
	tab, _ := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
	ctx, cancel := context.WithTimeout(tab, cfg.timeout)
	p.ctx = ctx
	t.Cleanup(func() {
		cancel()
		// Cancel waits until the tab is closed and its browser context
		// disposed, so pages do not pile up in the shared browser.
		if err := chromedp.Cancel(tab); err != nil {
			t.Logf("closing the browser tab: %v", err)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a browser tab: %v", err)
	}
	if cfg.noJS {
		p.SetJavaScriptEnabled(false)
	}
	return p
}

// Context is the page's chromedp context, for actions the kit has no
// helper for: chromedp.Run(p.Context(), chromedp.Title()).
func (p *Page) Context() context.Context { return p.ctx }

func (p *Page) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf(format, args...)
}

// SetJavaScriptEnabled switches script execution in this page off (false)
// or back on (true), as a browser with JavaScript disabled: the page's own
// scripts do not run. The kit's helpers (Text, Axe, ...) go through the
// DevTools protocol and keep working. It holds for the documents the page
// loads later too.
func (p *Page) SetJavaScriptEnabled(enabled bool) {
	p.t.Helper()
	if _, err := chromedp.Call(p.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !enabled}); err != nil {
		p.fatalf("set JavaScript enabled=%v: %v", enabled, err)
	}
	p.jsOff = !enabled
}

// Navigate loads url (prefixed with BaseURL when it starts with "/"), waits
// for the load and, when waitFor is not empty, until the element of that
// CSS selector is visible. It returns the HTTP status of the document.
func (p *Page) Navigate(url, waitFor string) int {
	p.t.Helper()
	if strings.HasPrefix(url, "/") {
		url = p.base + url
	}
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.fatalf("navigate to %s: %v", url, err)
	}
	if waitFor != "" {
		p.WaitVisible(waitFor)
	}
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// WaitVisible waits until the element of the CSS selector is visible.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		p.fatalf("wait for %s to be visible on %s: %v", sel, p.URL(), err)
	}
}

// Click clicks the first element of the CSS selector with the mouse, as a
// person would, and does not wait for anything it causes.
func (p *Page) Click(sel string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		p.fatalf("click %s on %s: %v", sel, p.URL(), err)
	}
}

// Submit clicks the element of the CSS selector (a form's submit button)
// and waits until the page it leads to has loaded, redirects included. The
// click is a real one, so it also works with JavaScript off.
func (p *Page) Submit(sel string) {
	p.t.Helper()
	from := p.URL()
	_, err := chromedp.Run(p.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
	if err != nil {
		p.fatalf("click %s on %s and wait for the next page: %v", sel, from, err)
	}
}

// Follow clicks a link (CSS selector) and waits for the page it loads.
func (p *Page) Follow(sel string) {
	p.t.Helper()
	p.Submit(sel)
}

// Fill clears a form field and types value into it. field is the field's
// label text (whitespace-normalised, exact: a <label for> or a label around
// the field) or its name attribute. A <select> takes the value of the option
// to choose.
func (p *Page) Fill(field, value string) {
	p.t.Helper()
	sel := chromedp.Search(fieldXPath(field))
	nodes, err := chromedp.Run(p.ctx, chromedp.Nodes(sel))
	if err != nil {
		p.fatalf("find the field %q on %s: %v", field, p.URL(), err)
	}
	typed := value
	if nodes[0].NodeName == "SELECT" {
		typed = "" // the option is chosen by its value, not by typing
	} else {
		// Cleared through the value property, not the attribute
		// (chromedp.Clear sets the attribute, which is only the default,
		// so a field already typed into kept its text); then typed.
		value = ""
	}
	err = chromedp.Do(p.ctx, setValue(sel, value))
	if err == nil && typed != "" {
		err = chromedp.Do(p.ctx, chromedp.SendKeys(sel, typed))
	}
	if err != nil {
		p.fatalf("fill the field %q on %s: %v", field, p.URL(), err)
	}
}

// setValue sets the value property of the first node of sel and fires input
// and change, as chromedp.SetValue would, which cannot set "": JSON v2's
// omitempty leaves an argument "" out, and the field gets "undefined". So
// the value is a literal in the function here, not an argument.
func setValue(sel chromedp.Search, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		nodes, err := chromedp.Nodes(sel)(ctx, t)
		if err != nil {
			return err
		}
		obj, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
		if err != nil {
			return err
		}
		defer func() {
			// Fails only when the page has gone, which frees it anyway.
			_, _ = cdp.Call(ctx, t, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: obj.Object.ObjectID})
		}()
		res, err := cdp.Call(ctx, t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
			FunctionDeclaration: `function() {
				const v = ` + jsString(value) + `;
				this.value = v;
				this.dispatchEvent(new Event("input", {bubbles: true}));
				this.dispatchEvent(new Event("change", {bubbles: true}));
				return this.value === v;
			}`,
			ObjectID:      obj.Object.ObjectID,
			ReturnByValue: new(true),
		})
		switch {
		case err != nil:
			return err
		case res.ExceptionDetails != nil:
			return fmt.Errorf("set the value: %s", res.ExceptionDetails.Text)
		case string(res.Result.Value) != "true":
			return fmt.Errorf("the field does not take the value %q (no such option?)", value)
		}
		return nil
	})
}

// fieldXPath finds a form control by its label's text or its name.
func fieldXPath(field string) string {
	lit := xpathLiteral(field)
	control := "(self::input or self::textarea or self::select)"
	label := "//label[normalize-space(.)=" + lit + "]"
	return "//*[" + control + " and (@name=" + lit + " or @id=" + label + "/@for)] | " +
		label + "//*[" + control + "]"
}

// xpathLiteral quotes s for XPath 1.0, which has no escapes.
func xpathLiteral(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	parts := strings.Split(s, `"`)
	return `concat("` + strings.Join(parts, `", '"', "`) + `")`
}

// Text returns the rendered text (innerText) of the element of the CSS
// selector, waiting for it to be present.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	text, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.fatalf("read the text of %s on %s: %v", sel, p.URL(), err)
	}
	return text
}

// Exists reports whether the CSS selector matches an element now, without
// waiting.
func (p *Page) Exists(sel string) bool {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		p.fatalf("look for %s: %v", sel, err)
	}
	return n > 0
}

// Title is the current document's title.
func (p *Page) Title() string {
	p.t.Helper()
	title, err := chromedp.Run(p.ctx, chromedp.Title())
	if err != nil {
		p.fatalf("read the title: %v", err)
	}
	return title
}

// URL is the address of the current document.
func (p *Page) URL() string {
	p.t.Helper()
	u, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		return fmt.Sprintf("(unknown page: %v)", err)
	}
	return u
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// listen runs in the tab's event loop (chromedp.WithListener): it only
// records, quickly, and sends no command.
func (p *Page) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		args := make([]string, 0, len(ev.Args))
		for _, a := range ev.Args {
			args = append(args, remoteText(a))
		}
		problem = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		problem = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *log.EventEntryAdded:
		// The browser's own errors: CSP violations (source "security"),
		// failed loads of resources (source "network"), and the like.
		if e := ev.Entry; e.Level == log.EntryLevelError {
			problem = fmt.Sprintf("%s error: %s", e.Source, e.Text)
			if e.URL != "" && !strings.Contains(e.Text, e.URL) {
				problem += " (" + e.URL + ")"
			}
		}
	}
	if problem == "" {
		return
	}
	p.mu.Lock()
	p.problems = append(p.problems, problem)
	p.mu.Unlock()
}

func remoteText(o *runtime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// Problems returns what the page reported as wrong since it opened: console
// errors and failed assertions, uncaught exceptions, and the browser's
// errors, among them every Content Security Policy violation ("security
// error: Refused to ...") and failed resource loads.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// WaitProblem waits until a problem containing substr has been reported
// (events arrive a little after the load that caused them) and returns it.
func (p *Page) WaitProblem(substr string) string {
	p.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(10 * time.Second)
	for {
		for _, problem := range p.Problems() {
			if strings.Contains(problem, substr) {
				return problem
			}
		}
		select {
		case <-tick.C:
		case <-limit:
			p.fatalf("no problem containing %q was reported on %s within 10s; problems: %q", substr, p.URL(), p.Problems())
		case <-p.ctx.Done():
			p.fatalf("no problem containing %q was reported on %s: %v; problems: %q", substr, p.URL(), p.ctx.Err(), p.Problems())
		}
	}
}

// ExpectNoProblems fails the test (without stopping it) listing Problems, if
// any. The events of a load arrive while it happens, so call it after the
// step whose pages should be clean.
func (p *Page) ExpectNoProblems() {
	p.t.Helper()
	if problems := p.Problems(); len(problems) > 0 {
		p.t.Errorf("the page %s reported %d problem(s):\n  %s", p.URL(), len(problems), strings.Join(problems, "\n  "))
	}
}
