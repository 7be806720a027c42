package httpx

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
)

// APIVersion is the version of the public API the document describes
// (its routes start with /v1).
const APIVersion = "1.0.0"

// OpenAPI builds the OpenAPI 3.1 document of the public routes from the same
// Route values the server registers, so the two cannot drift apart.
func OpenAPI(sets []RouteSet) map[string]any {
	schemas := map[string]any{}
	g := &schemaGen{defs: schemas, names: map[reflect.Type]string{}, types: map[string]reflect.Type{}}
	problemRef := g.ref(reflect.TypeOf(Problem{}))
	for _, set := range sets { // the names modules chose come first
		for _, name := range sortedKeys(set.Schemas) {
			t := reflect.TypeOf(set.Schemas[name])
			if _, taken := g.types[name]; !taken {
				g.names[t], g.types[name] = name, t
			}
		}
	}
	paths := map[string]any{}
	usedResponses := map[int]bool{}
	usesInternal := false
	tagDescriptions := map[string]string{}
	for _, set := range sets {
		g.module = set.Module
		for _, r := range set.Routes {
			if r.Hidden {
				continue
			}
			if _, ok := tagDescriptions[set.Module]; !ok || tagDescriptions[set.Module] == "" {
				tagDescriptions[set.Module] = set.Description
			}
			p := OpenAPIPath(r.Path)
			item, _ := paths[p].(map[string]any)
			if item == nil {
				item = map[string]any{}
				paths[p] = item
			}
			op := map[string]any{
				"operationId": operationID(r.Method, r.Path),
				"summary":     r.Summary,
				"description": strings.TrimSpace(r.Description + "\n\n" + accessText[r.Access]),
				"tags":        []string{set.Module},
				"x-access":    r.Access.String(),
			}
			switch r.Access {
			case Public:
				op["security"] = []any{}
			case OptionalAuth: // anonymous or with a token
				op["security"] = []any{map[string]any{}, map[string]any{"bearer": []string{}}}
			case Internal:
				usesInternal = true
				op["security"] = []any{map[string]any{"internal": []string{}}}
			default:
				op["security"] = []any{map[string]any{"bearer": []string{}}}
			}
			params := []any{}
			for _, seg := range strings.Split(r.Path, "/") {
				if strings.HasPrefix(seg, ":") {
					name := seg[1:]
					params = append(params, map[string]any{"name": name, "in": "path", "required": true,
						"description": "the " + strings.NewReplacer("-", " ", "_", " ").Replace(name),
						"schema":      map[string]any{"type": "string"}})
				}
			}
			for _, q := range r.Query {
				params = append(params, paramDoc(q, "query"))
			}
			for _, h := range r.Header {
				params = append(params, paramDoc(h, "header"))
			}
			if len(params) > 0 {
				op["parameters"] = params
			}
			if r.Request != nil {
				media := map[string]any{"schema": g.ref(reflect.TypeOf(r.Request))}
				if ex, ok := example(r.Request); ok {
					media["example"] = ex
				}
				op["requestBody"] = map[string]any{"required": true, "description": "the request, as JSON",
					"content": map[string]any{"application/json": media}}
			}
			status := r.Status
			if status == 0 {
				status = 200
			}
			ok := map[string]any{"description": http.StatusText(status)}
			if r.Response != nil {
				media := map[string]any{"schema": g.ref(reflect.TypeOf(r.Response))}
				if ex, found := example(r.Response); found {
					media["example"] = ex
				}
				ok["content"] = map[string]any{"application/json": media}
			}
			responses := map[string]any{itoa(status): ok}
			for _, code := range errorStatuses(r) {
				usedResponses[code] = true
				responses[itoa(code)] = map[string]any{"$ref": "#/components/responses/" + responseName(code)}
			}
			op["responses"] = responses
			item[strings.ToLower(r.Method)] = op
		}
	}
	var tags []any
	for _, name := range sortedKeys(tagDescriptions) {
		d := tagDescriptions[name]
		if d == "" {
			d = "The routes of the " + name + " module."
		}
		tags = append(tags, map[string]any{"name": name, "description": d})
	}
	securitySchemes := map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
		"description": "an access token from POST /v1/auth/login or /v1/auth/register"}}
	if usesInternal {
		securitySchemes["internal"] = map[string]any{"type": "apiKey", "in": "header", "name": InternalTokenHeader,
			"description": "MODSHOP_INTERNAL_TOKEN, for calls between modshop processes"}
	}
	responses := map[string]any{}
	for code := range usedResponses {
		content := map[string]any{"schema": problemRef, "example": problemExample(code)}
		resp := map[string]any{"description": problemText[code], "content": map[string]any{ProblemContentType: content}}
		if code == http.StatusTooManyRequests {
			resp["headers"] = map[string]any{"Retry-After": map[string]any{
				"description": "seconds to wait before trying again", "schema": map[string]any{"type": "integer", "minimum": 1}}}
		}
		responses[responseName(code)] = resp
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "modshop",
			"version":     APIVersion,
			"description": infoDescription,
			"contact":     map[string]any{"name": "modshop maintainers", "url": "https://github.com/modshop/modshop"},
			"license":     map[string]any{"name": "Proprietary", "url": "https://github.com/modshop/modshop"},
		},
		"servers": []any{map[string]any{"url": "{scheme}://{host}", "description": "a modshop process, e.g. the one make run starts on localhost:8080",
			"variables": map[string]any{
				"scheme": map[string]any{"default": "http", "enum": []string{"http", "https"}, "description": "http, or https behind a TLS proxy"},
				"host":   map[string]any{"default": "localhost:8080", "description": "host and port (MODSHOP_HTTP_ADDR)"},
			}}},
		"tags":  tags,
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas,
			"responses":       responses,
			"securitySchemes": securitySchemes,
		},
	}
}

const infoDescription = `The public API of modshop, an e-commerce backend: catalog, search, stock,
customers, carts, checkout, orders and payments.

Request bodies are JSON (Content-Type: application/json). Errors are RFC 9457
problem documents (application/problem+json) with a stable machine word in
code. Money is integer minor units of the store's one currency. Lists take
limit and cursor and answer next_cursor.`

var accessText = map[Access]string{
	Public:       "Anyone may call it; no token is needed.",
	OptionalAuth: "Anyone may call it; with a bearer token it acts for that customer (a bad token is 401).",
	Customer:     "Needs a signed-in customer's (or an admin's) bearer token.",
	Admin:        "Needs an admin's bearer token.",
	Internal:     "Only for other modshop processes.",
}

var problemText = map[int]string{
	400: "bad_request: the request is malformed (JSON syntax, unknown or duplicate fields, wrong types, a missing header)",
	401: "unauthorized (or invalid_credentials): no valid bearer token, or a failed sign-in",
	402: "payment_declined: the payment provider declined the payment method",
	403: "forbidden: the token's role may not call this route",
	404: "not_found (or unknown_sku): no such resource, or not the caller's",
	409: "a conflict with the resource's state: conflict, out_of_stock, email_taken, slug_taken, sku_taken, checkout_expired, checkout_completed, invalid_state, request_in_progress",
	413: "payload_too_large: the body is larger than 1 MiB",
	415: "unsupported_media_type: the body is not application/json",
	422: "validation_failed (or empty_cart, idempotency_key_reused): well-formed but invalid values; errors names the fields",
	429: "rate_limited: too many attempts; wait Retry-After seconds",
	500: "internal: an unexpected error (logged; its text is not shown)",
	503: "unavailable: the shop is starting, or a service it needs is not answering",
}

var problemCode = map[int]string{
	400: "bad_request", 401: "unauthorized", 402: "payment_declined", 403: "forbidden", 404: "not_found",
	409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
	429: "rate_limited", 500: "internal", 503: "unavailable",
}

func problemExample(code int) map[string]any {
	p := problem(code, problemCode[code], strings.SplitN(problemText[code], ": ", 2)[len(strings.SplitN(problemText[code], ": ", 2))-1])
	ex := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code, "detail": p.Detail}
	if code == 422 {
		ex["errors"] = []any{map[string]any{"field": "quantity", "message": "must be from 1 to 100"}}
	}
	return ex
}

// responseName is the component name of the problem answer of a status:
// "NotFound", "UnprocessableEntity".
func responseName(code int) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(http.StatusText(code))
}

// errorStatuses are a route's error answers: those every /v1 route may give
// (400, 500, 503 while the shop starts), those its access implies (401,
// 403), its path parameters (404), its query (422) and body (413, 415,
// 422), and its own.
func errorStatuses(r Route) []int {
	set := map[int]bool{400: true, 500: true, 503: true}
	switch r.Access {
	case OptionalAuth, Customer, Internal:
		set[401] = true
	case Admin:
		set[401], set[403] = true, true
	}
	if strings.Contains(r.Path, "/:") {
		set[404] = true
	}
	if len(r.Query) > 0 {
		set[422] = true
	}
	if r.Request != nil {
		set[413], set[415], set[422] = true, true, true
	}
	for _, c := range r.Errors {
		set[c] = true
	}
	out := make([]int, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}

func paramDoc(p Param, in string) map[string]any {
	s := map[string]any{"type": p.Type}
	if len(p.Enum) > 0 {
		s["enum"] = p.Enum
	}
	if p.Minimum != nil {
		s["minimum"] = *p.Minimum
	}
	if p.Maximum != nil {
		s["maximum"] = *p.Maximum
	}
	if p.Default != nil {
		s["default"] = p.Default
	}
	d := p.Description
	if d == "" {
		d = strings.ReplaceAll(p.Name, "_", " ")
	}
	doc := map[string]any{"name": p.Name, "in": in, "description": d, "schema": s}
	if p.Required {
		doc["required"] = true
	}
	return doc
}

// example is v as JSON, unless v is its type's zero value (no example given).
func example(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsZero() {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, false
	}
	return out, true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OpenAPIPath turns /v1/products/:id into /v1/products/{id}.
func OpenAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.TrimPrefix(seg, ":")
		if seg == "" || seg == "v1" {
			continue
		}
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

type schemaGen struct {
	module string // the module whose routes are being documented
	defs   map[string]any
	names  map[reflect.Type]string // the component name of each named struct
	types  map[string]reflect.Type // and back, to keep names unique
}

// componentName is a valid, unique component name for t: "Product", or
// "Page_Product" for Page[api.Product]; a second type of the same name from
// another module is qualified with the module's name ("SearchProduct"), unless
// its module named it (RouteSet.Schemas).
func (g *schemaGen) componentName(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
				return r
			}
			return '_'
		}, s)
	}
	base := t.Name()
	if i := strings.IndexByte(base, '['); i >= 0 && strings.HasSuffix(base, "]") { // generic: the type arguments' short names
		args := strings.FieldsFunc(base[i+1:len(base)-1], func(r rune) bool { return r == ',' || r == ' ' })
		parts := []string{base[:i]}
		for _, a := range args {
			parts = append(parts, a[strings.LastIndexAny(a, "./")+1:])
		}
		base = strings.Join(parts, "_")
	}
	name := clean(base)
	if other, taken := g.types[name]; taken && other != t {
		qualified := clean(base)
		if g.module != "" {
			qualified = clean(strings.ToUpper(g.module[:1]) + g.module[1:] + base)
		}
		name = qualified
		for i := 2; g.types[name] != nil; i++ {
			name = qualified + "_" + itoa(i)
		}
	}
	g.names[t], g.types[name] = name, t
	return name
}

// Schemer is a type with its own JSON encoding (a custom UnmarshalJSON, say)
// that describes that encoding, since reflection on its fields cannot.
type Schemer interface{ JSONSchema() map[string]any }

var (
	timeType    = reflect.TypeOf(time.Time{})
	rawJSONType = reflect.TypeOf(json.RawMessage{})
	schemerType = reflect.TypeOf((*Schemer)(nil)).Elem()
)

// ref returns a schema for t, registering named structs under components.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(schemerType) {
		return reflect.Zero(t).Interface().(Schemer).JSONSchema()
	}
	if t.Kind() == reflect.Struct && t != timeType && t.Name() != "" {
		name := g.componentName(t)
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // break cycles
			g.defs[name] = g.schema(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return g.schema(t)
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawJSONType:
		return map[string]any{} // any JSON value
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return map[string]any{"type": "array", "items": g.ref(t.Elem())}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem())}
	case t.Kind() == reflect.Struct:
		props := map[string]any{}
		var required []string
		g.fields(t, props, &required)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			sort.Strings(required)
			s["required"] = required
		}
		return s
	default:
		return map[string]any{}
	}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		s := g.ref(f.Type)
		if f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map {
			if _, isRef := s["$ref"]; isRef {
				s = map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
			} else if typ, ok := s["type"].(string); ok {
				s["type"] = []string{typ, "null"}
			}
		}
		if d := f.Tag.Get("doc"); d != "" {
			s["description"] = d
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
