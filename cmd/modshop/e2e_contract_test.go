package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// Every answer the end-to-end suites receive from a /v1 route is checked
// against docs/openapi.json (which TestOpenAPIDocumentIsCheckedIn keeps
// equal to the served document): a status the operation does not declare,
// or a body that does not match the declared schema, fails the test.

var contract struct {
	once sync.Once
	mu   sync.Mutex // the validator is not known to be safe for concurrent use
	v    validator.Validator
	err  error
}

func contractValidator() (validator.Validator, error) {
	contract.once.Do(func() {
		spec, err := os.ReadFile(openAPIFile)
		if err != nil {
			contract.err = err
			return
		}
		doc, err := libopenapi.NewDocument(spec)
		if err != nil {
			contract.err = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			contract.err = fmt.Errorf("validator: %v", errs)
			return
		}
		contract.v = v
	})
	return contract.v, contract.err
}

// contractViolations says how an answer breaks the document; "" when it
// keeps it, or the route is not a /v1 route (health, metrics, the document).
func contractViolations(req *http.Request, resp *http.Response, body []byte) string {
	if !strings.HasPrefix(req.URL.Path, "/v1/") {
		return ""
	}
	v, err := contractValidator()
	if err != nil {
		return "no validator: " + err.Error()
	}
	r := *resp
	r.Body = io.NopCloser(bytes.NewReader(body))
	contract.mu.Lock()
	ok, errs := v.ValidateHttpResponse(req, &r)
	contract.mu.Unlock()
	if ok {
		return ""
	}
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s at %s", se.Reason, se.FieldPath)
		}
	}
	return b.String()
}

// checkContract fails the test when an answer breaks the document.
func (f front) checkContract(req *http.Request, resp *http.Response, body []byte) {
	f.t.Helper()
	if msg := contractViolations(req, resp, body); msg != "" {
		f.t.Errorf("%s %s answered %d, which docs/openapi.json does not allow:%s\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, msg, body)
	}
}

// TestContractValidationCatchesUndeclaredAnswers: the check the suites rely
// on refuses what the document does not declare.
func TestContractValidationCatchesUndeclaredAnswers(t *testing.T) {
	t.Parallel()
	answer := func(method, path string, status int, contentType, body string) string {
		req, _ := http.NewRequest(method, "http://localhost:8080"+path, nil)
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}, Request: req}
		return contractViolations(req, resp, []byte(body))
	}
	const problem = `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found","detail":"no such product"}`
	if msg := answer("GET", "/v1/products/boots", 404, "application/problem+json", problem); msg != "" {
		t.Errorf("a declared 404 problem is refused:%s", msg)
	}
	if msg := answer("GET", "/v1/products", 200, "application/json", `{"items":[],"next_cursor":null}`); msg != "" {
		t.Errorf("an empty page is refused:%s", msg)
	}
	for name, c := range map[string]struct {
		method, path string
		status       int
		body         string
	}{
		"an undeclared status": {"GET", "/v1/products", 418, `{}`},
		"a 409 on a route without conflicts": {"GET", "/v1/categories", 409,
			`{"type":"about:blank","title":"Conflict","status":409,"code":"conflict"}`},
		"a body of another shape": {"GET", "/v1/products", 200, `{"items":"none"}`},
	} {
		ct := "application/json"
		if c.status >= 400 {
			ct = "application/problem+json"
		}
		if msg := answer(c.method, c.path, c.status, ct, c.body); msg == "" {
			t.Errorf("%s passes the check", name)
		}
	}
}
