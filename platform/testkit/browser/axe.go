package browser

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, pinned (axe/README.md has the version and hash).
//
//go:embed axe/axe.min.js
var axeSource string

// AxeVersion is the vendored axe-core's version.
const AxeVersion = "4.11.4"

// axeSHA256 is the hash of axe/axe.min.js; a test checks it.
const axeSHA256 = "fb83a4378d978ecb7d2dae48a3a3778a84c971ac692f3afd45d714fba89c0f0d"

// AxeTags are the rule tags Axe runs: WCAG 2.0, 2.1 and 2.2, levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Violation is one axe-core rule that failed, with the elements it failed on.
type Violation struct {
	ID          string          `json:"id"`
	Impact      string          `json:"impact"` // minor, moderate, serious or critical
	Help        string          `json:"help"`
	Description string          `json:"description"`
	HelpURL     string          `json:"helpUrl"`
	Nodes       []ViolationNode `json:"nodes"`
}

// ViolationNode is an element a rule failed on.
type ViolationNode struct {
	Target         []any  `json:"target"` // CSS selectors; nested lists for iframes and shadow roots
	HTML           string `json:"html"`
	FailureSummary string `json:"failureSummary"`
}

// Blocking reports whether the violation fails a test: its impact is
// serious or critical.
func (v Violation) Blocking() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v Violation) String() string {
	const most = 3
	targets := make([]string, 0, most)
	for i, n := range v.Nodes {
		if i == most {
			targets = append(targets, fmt.Sprintf("and %d more", len(v.Nodes)-most))
			break
		}
		targets = append(targets, fmt.Sprint(n.Target...))
	}
	return fmt.Sprintf("%s (%s): %s [%s]", v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
}

// AxeViolations runs axe-core's WCAG 2 A/AA rules (AxeTags) on the current
// document of the chromedp context ctx and returns every violation.
//
// axe is injected through the DevTools protocol (Runtime.evaluate), not as
// a <script> element, so the page's Content Security Policy (script-src
// 'self') does not block it. axe.run waits on timers, which do not fire
// while script execution is disabled: Page.Axe turns it on for the run.
func AxeViolations(ctx context.Context) ([]Violation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err != nil {
		return nil, fmt.Errorf("look for axe: %w", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			return nil, fmt.Errorf("inject axe-core %s: %w", AxeVersion, err)
		}
	}
	run := fmt.Sprintf(`axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r => r.violations)`, jsStrings(AxeTags))
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe: %w", err)
	}
	return vs, nil
}

func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = jsString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// ReportViolations fails t (Errorf: the test goes on) with every serious or
// critical violation, and logs the minor and moderate ones. where names the
// page. It returns the number of blocking violations.
func ReportViolations(t testing.TB, where string, vs []Violation) int {
	t.Helper()
	var blocking, other []string
	for _, v := range vs {
		if v.Blocking() {
			blocking = append(blocking, v.String())
		} else {
			other = append(other, v.String())
		}
	}
	if len(other) > 0 {
		t.Logf("axe %s: %d minor or moderate accessibility issue(s) on %s:\n  %s", AxeVersion, len(other), where, strings.Join(other, "\n  "))
	}
	if len(blocking) > 0 {
		t.Errorf("axe %s: %d serious or critical accessibility violation(s) on %s:\n  %s", AxeVersion, len(blocking), where, strings.Join(blocking, "\n  "))
	}
	return len(blocking)
}

// Axe checks the current document with axe-core (AxeViolations) and fails
// the test listing every serious or critical violation; minor and moderate
// ones are logged (ReportViolations).
func (p *Page) Axe() {
	p.t.Helper()
	where := p.URL()
	if p.jsOff {
		// The document was parsed and loaded without its scripts; turning
		// execution on now runs none of them, only axe.
		p.SetJavaScriptEnabled(true)
		defer p.SetJavaScriptEnabled(false)
	}
	vs, err := AxeViolations(p.ctx)
	if err != nil {
		p.fatalf("axe on %s: %v", where, err)
	}
	ReportViolations(p.t, where, vs)
}

// Axe is Page.Axe for a chromedp context of one's own.
func Axe(t testing.TB, ctx context.Context) {
	t.Helper()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	vs, err := AxeViolations(ctx)
	if err != nil {
		t.Fatalf("axe on %s: %v", where, err)
	}
	ReportViolations(t, where, vs)
}
