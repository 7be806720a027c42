package browser

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/chromedp/chromedp"
)

// ScreenshotDirEnv names the directory Screenshot writes to. Set it to
// refresh the pictures the docs show, e.g.
// MODSHOP_SCREENSHOT_DIR=$PWD/docs/screenshots go test ./modules/web/...
const ScreenshotDirEnv = "MODSHOP_SCREENSHOT_DIR"

var screenshotName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Screenshot saves a PNG of the whole page (beyond the viewport) as
// <dir>/<name>.png and returns its path. dir is $MODSHOP_SCREENSHOT_DIR when
// set (created if missing; an existing file is replaced), otherwise a
// temporary directory of the test, removed after it. name is lower-case
// letters, digits, '.', '-' and '_' (e.g. "storefront-home").
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	name = strings.TrimSuffix(name, ".png")
	if !screenshotName.MatchString(name) {
		p.fatalf("screenshot name %q: want lower-case letters, digits, '.', '-' and '_'", name)
	}
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		p.mu.Lock()
		if p.shotDir == "" {
			p.shotDir = p.t.TempDir()
		}
		dir = p.shotDir
		p.mu.Unlock()
	} else if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G703: the developer's own directory, by design
		p.fatalf("screenshot directory: %v", err)
	}
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		p.fatalf("screenshot of %s: %v", p.URL(), err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil { //nolint:gosec // G703: dir is the developer's; name is checked above
		p.fatalf("write the screenshot: %v", err)
	}
	return path
}
