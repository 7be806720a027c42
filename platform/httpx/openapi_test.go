package httpx_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modshop/modshop/platform/httpx"
)

type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type Product struct {
	ID        string            `json:"id" doc:"opaque id"`
	Price     Money             `json:"price"`
	Tags      []string          `json:"tags,omitempty"`
	Attrs     map[string]string `json:"attributes"`
	Parent    *Product          `json:"parent"` // a cycle
	CreatedAt time.Time         `json:"created_at"`
	Raw       json.RawMessage   `json:"raw,omitempty"`
	Blob      []byte            `json:"blob,omitempty"`
	internal  int               //nolint:unused // an unexported field the schema must leave out
}

// otherProduct has the same Go name as Product, as two modules' types can.
func otherProduct() any {
	type Product struct {
		SKU string `json:"sku"`
	}
	return Product{}
}

func shopRoutes() httpx.RouteSet {
	h := func(c echo.Context) error { return c.NoContent(204) }
	return httpx.RouteSet{Module: "shop", Description: "the shop's routes", Routes: []httpx.Route{
		{Method: "GET", Path: "/v1/products", Access: httpx.Public, Handler: h, Response: Page[Product]{},
			Query: append([]httpx.Param{{Name: "sort", Type: "string", Enum: []string{"newest", "title"}}}, httpx.PageParams()...)},
		{Method: "POST", Path: "/v1/orders", Access: httpx.OptionalAuth, Handler: h, Status: 201, Errors: []int{402, 409},
			Header:  []httpx.Param{{Name: "Idempotency-Key", Type: "string", Required: true}},
			Request: Money{Amount: 1999, Currency: "EUR"}, Response: Money{}},
		{Method: "GET", Path: "/v1/products/:id", Access: httpx.OptionalAuth, Handler: h, Response: Product{}},
		{Method: "PATCH", Path: "/v1/admin/products/:id/variants/:variant_id", Access: httpx.Admin, Handler: h, Request: otherProduct(), Response: otherProduct()},
		{Method: "DELETE", Path: "/v1/admin/products/:id", Access: httpx.Admin, Handler: h, Status: 204},
		{Method: "POST", Path: "/internal/shop/reserve", Access: httpx.Internal, Handler: h, Hidden: true},
	}}
}

func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, demoRoutes(), shopRoutes())
	r := s.request(t, "GET", "/openapi.json", nil, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("/openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title, Version string
		}
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas         map[string]map[string]any `json:"schemas"`
			SecuritySchemes map[string]any            `json:"securitySchemes"`
		}
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Title != "modshop" || doc.Info.Version != httpx.APIVersion {
		t.Fatalf("header: %s %+v", doc.OpenAPI, doc.Info)
	}

	// The documented operations are exactly the registered /v1 routes.
	var documented, registered []string
	opIDs := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range item {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			id, _ := op["operationId"].(string)
			if id == "" || opIDs[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, id)
			}
			opIDs[id] = true
			if _, ok := op["responses"].(map[string]any)["400"]; !ok {
				t.Errorf("%s %s documents no problem response", method, path)
			}
			// Every {param} of the path is declared.
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				found := false
				params, _ := op["parameters"].([]any)
				for _, p := range params {
					if pm := p.(map[string]any); pm["name"] == m[1] && pm["in"] == "path" && pm["required"] == true {
						found = true
					}
				}
				if !found {
					t.Errorf("%s %s does not declare path parameter %s", method, path, m[1])
				}
			}
		}
	}
	for _, rt := range s.srv.Echo.Routes() {
		if strings.HasPrefix(rt.Path, "/v1/") {
			registered = append(registered, rt.Method+" "+httpx.OpenAPIPath(rt.Path))
		}
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("the document and the server disagree:\ndocumented %q\nregistered %q", documented, registered)
	}
	if len(registered) != 17 {
		t.Fatalf("%d /v1 routes registered, want 17 (the test lost some)", len(registered))
	}

	// Every $ref resolves, and component names are valid.
	validName := regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	for name := range doc.Components.Schemas {
		if !validName.MatchString(name) {
			t.Errorf("component name %q is not valid in OpenAPI", name)
		}
	}
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(r.body), -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("$ref to %s does not resolve", ref[1])
		}
	}

	// Schemas say what the JSON looks like.
	prod := doc.Components.Schemas["Product"]
	props, _ := prod["properties"].(map[string]any)
	if props == nil {
		t.Fatalf("Product schema: %v", prod)
	}
	for field, want := range map[string]string{
		"id":         `{"description":"opaque id","type":"string"}`,
		"created_at": `{"format":"date-time","type":"string"}`,
		"blob":       `{"contentEncoding":"base64","type":["string","null"]}`,
		"raw":        `{}`,
		"price":      `{"$ref":"#/components/schemas/Money"}`,
		"parent":     `{"oneOf":[{"$ref":"#/components/schemas/Product"},{"type":"null"}]}`,
		"attributes": `{"additionalProperties":{"type":"string"},"type":["object","null"]}`,
	} {
		got, _ := json.Marshal(props[field])
		if string(got) != want {
			t.Errorf("Product.%s = %s, want %s", field, got, want)
		}
	}
	if _, ok := props["internal"]; ok {
		t.Error("an unexported field is documented")
	}
	if req, _ := prod["required"].([]any); slices.Contains(req, any("tags")) || !slices.Contains(req, any("id")) {
		t.Errorf("required = %v", prod["required"])
	}
	page := doc.Components.Schemas["Page_Product"]
	if page == nil {
		t.Fatalf("the generic Page[Product] has no component Page_Product; have %v", keys(doc.Components.Schemas))
	}
	// The two types named Product stay two schemas.
	patch := doc.Paths["/v1/admin/products/{id}/variants/{variant_id}"]["patch"]
	b, _ := json.Marshal(patch["requestBody"])
	if strings.Contains(string(b), `"#/components/schemas/Product"`) {
		t.Errorf("the other Product reuses the first's schema: %s", b)
	}

	// Access shows in security.
	sec := func(method, path string) string {
		b, _ := json.Marshal(doc.Paths[path][method]["security"])
		return string(b)
	}
	if got := sec("get", "/v1/products"); got != "[]" {
		t.Errorf("public security = %s", got)
	}
	if got := sec("get", "/v1/products/{id}"); got != `[{},{"bearer":[]}]` {
		t.Errorf("optional security = %s", got)
	}
	if got := sec("delete", "/v1/admin/products/{id}"); got != `[{"bearer":[]}]` {
		t.Errorf("admin security = %s", got)
	}
	if _, ok := doc.Paths["/v1/admin/products/{id}"]["delete"]["responses"].(map[string]any)["204"]; !ok {
		t.Error("a 204 route does not document 204")
	}

	// Error answers follow from access, parameters and body, plus the
	// route's own; each is a shared problem+json response.
	statuses := func(method, path string) []string {
		var out []string
		for code := range doc.Paths[path][method]["responses"].(map[string]any) {
			out = append(out, code)
		}
		sort.Strings(out)
		return out
	}
	for _, c := range []struct {
		method, path string
		want         []string
	}{
		{"get", "/v1/products", []string{"200", "400", "422", "500", "503"}},
		{"get", "/v1/products/{id}", []string{"200", "400", "401", "404", "500", "503"}},
		{"delete", "/v1/admin/products/{id}", []string{"204", "400", "401", "403", "404", "500", "503"}},
		{"post", "/v1/orders", []string{"201", "400", "401", "402", "409", "413", "415", "422", "500", "503"}},
	} {
		if got := statuses(c.method, c.path); !slices.Equal(got, c.want) {
			t.Errorf("%s %s answers %v, want %v", c.method, c.path, got, c.want)
		}
	}
	conflict, _ := json.Marshal(doc.Paths["/v1/orders"]["post"]["responses"].(map[string]any)["409"])
	if string(conflict) != `{"$ref":"#/components/responses/Conflict"}` || !strings.Contains(string(r.body), `"application/problem+json"`) {
		t.Errorf("409 = %s", conflict)
	}
	// Headers, bounds, examples, tags.
	order, _ := json.Marshal(doc.Paths["/v1/orders"]["post"])
	for _, want := range []string{
		`{"description":"Idempotency-Key","in":"header","name":"Idempotency-Key","required":true,"schema":{"type":"string"}}`,
		`"example":{"amount":1999,"currency":"EUR"}`,
		`"tags":["shop"]`,
	} {
		if !strings.Contains(string(order), want) {
			t.Errorf("POST /v1/orders lacks %s: %s", want, order)
		}
	}
	if strings.Contains(string(order), `"responses":{"201":{"content":{"application/json":{"example"`) {
		t.Error("a zero response value became an example")
	}
	list, _ := json.Marshal(doc.Paths["/v1/products"]["get"]["parameters"])
	if !strings.Contains(string(list), `"schema":{"default":20,"maximum":100,"minimum":1,"type":"integer"}`) {
		t.Errorf("limit has no bounds: %s", list)
	}
	var tagged struct {
		Tags []struct{ Name, Description string }
	}
	_ = json.Unmarshal(r.body, &tagged)
	if !slices.Contains(tagged.Tags, struct{ Name, Description string }{"shop", "the shop's routes"}) {
		t.Error("the module's tag is not declared with its description")
	}
	if _, ok := doc.Components.Schemas["ShopProduct"]; !ok {
		t.Errorf("the second Product is not named after its module: %v", keys(doc.Components.Schemas))
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/v1/products":                    "/v1/products",
		"/v1/products/:id":                "/v1/products/{id}",
		"/v1/carts/:id/items/:item_id":    "/v1/carts/{id}/items/{item_id}",
		"/v1/admin/inventory/:sku/adjust": "/v1/admin/inventory/{sku}/adjust",
	} {
		if got := httpx.OpenAPIPath(in); got != want {
			t.Errorf("OpenAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}
