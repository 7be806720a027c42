package site

import (
	"bytes"
	"container/list"
	"html/template"
	"sync"
)

// fragments keep a page's rendered content when it depends only on what
// its key names: a product page's content is the product at one version,
// its category and each variant's stock, so it is rendered once per change
// rather than once per request (html/template spends about 100 µs of CPU
// on it, most of the page's cost; docs/benchmarks.md). The visitor's own
// parts, the header and the form's CSRF token, are not in it: the layout
// is rendered for each request, and the token is written into a hole the
// fragment leaves for it. At most max fragments are kept, the least
// recently used dropped first, once they hold more than max bytes.
type fragments struct {
	mu    sync.Mutex
	max   int // bytes
	size  int // bytes held: each fragment's HTML and key
	items map[string]*list.Element
	order *list.List // front: most recently used
}

type fragment struct {
	key  string
	html []byte
}

// csrfHole stands for the visitor's CSRF token in a kept fragment. It is
// text no template escapes, and no page's content could hold by itself.
const csrfHole = "__modshop_csrf_hole__"

func newFragments(maxBytes int) *fragments {
	return &fragments{max: maxBytes, items: map[string]*list.Element{}, order: list.New()}
}

func (f *fragments) get(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.items[key]
	if !ok {
		return nil, false
	}
	f.order.MoveToFront(e)
	return e.Value.(*fragment).html, true
}

func (f *fragments) put(key string, html []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.items[key]; ok {
		fr := e.Value.(*fragment)
		f.size += len(html) - len(fr.html)
		fr.html = html
		f.order.MoveToFront(e)
	} else {
		f.items[key] = f.order.PushFront(&fragment{key: key, html: html})
		f.size += len(key) + len(html)
	}
	for f.size > f.max && f.order.Len() > 0 {
		last := f.order.Back()
		fr := last.Value.(*fragment)
		f.order.Remove(last)
		delete(f.items, fr.key)
		f.size -= len(fr.key) + len(fr.html)
	}
}

// content is the page's content for this visitor: the kept fragment of key,
// or the page's "content" template rendered now (and kept), with the
// visitor's CSRF token in its hole.
func (s *Site) content(v *Visit, name, key string, data any) (template.HTML, error) {
	html, ok := s.fragments.get(key)
	if !ok {
		t, found := s.views.pages[name]
		if !found {
			return "", errNoTemplate(name)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "content", View{Data: data, CSRF: csrfHole}); err != nil {
			return "", err
		}
		html = buf.Bytes()
		s.fragments.put(key, html)
	}
	//nolint:gosec // G203: the fragment is html/template's output; the token is base64url
	return template.HTML(bytes.ReplaceAll(html, []byte(csrfHole), []byte(v.CSRF))), nil
}
