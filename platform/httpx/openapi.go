package httpx

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"
)

// OpenAPI builds the OpenAPI 3.1 document of the public routes from the same
// Route values the server registers, so the two cannot drift apart.
func OpenAPI(version string, sets []RouteSet) map[string]any {
	schemas := map[string]any{}
	g := &schemaGen{defs: schemas, names: map[reflect.Type]string{}, types: map[string]reflect.Type{}}
	problemRef := g.ref(reflect.TypeOf(Problem{}))
	paths := map[string]any{}
	for _, set := range sets {
		for _, r := range set.Routes {
			if r.Hidden {
				continue
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
				"tags":        []string{set.Module},
				"x-access":    r.Access.String(),
			}
			switch r.Access {
			case Public:
			case OptionalAuth: // anonymous or with a token
				op["security"] = []any{map[string]any{}, map[string]any{"bearer": []string{}}}
			case Internal:
				op["security"] = []any{map[string]any{"internal": []string{}}}
			default:
				op["security"] = []any{map[string]any{"bearer": []string{}}}
			}
			var params []any
			for _, seg := range strings.Split(r.Path, "/") {
				if strings.HasPrefix(seg, ":") {
					params = append(params, map[string]any{"name": seg[1:], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
				}
			}
			for _, q := range r.Query {
				s := map[string]any{"type": q.Type}
				if len(q.Enum) > 0 {
					s["enum"] = q.Enum
				}
				params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": s})
			}
			if params != nil {
				op["parameters"] = params
			}
			if r.Request != nil {
				op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
					"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(r.Request))}}}
			}
			status := r.Status
			if status == 0 {
				status = 200
			}
			ok := map[string]any{"description": "success"}
			if r.Response != nil {
				ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(r.Response))}}
			}
			op["responses"] = map[string]any{
				itoa(status): ok,
				"default": map[string]any{"description": "an RFC 9457 problem", "content": map[string]any{
					ProblemContentType: map[string]any{"schema": problemRef}}},
			}
			item[strings.ToLower(r.Method)] = op
		}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "modshop", "version": version, "description": "The modshop public API (v1)."},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer":   map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"internal": map[string]any{"type": "apiKey", "in": "header", "name": InternalTokenHeader},
			},
		},
	}
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
	defs  map[string]any
	names map[reflect.Type]string // the component name of each named struct
	types map[string]reflect.Type // and back, to keep names unique
}

// componentName is a valid, unique component name for t: "Product", or
// "Page_Product" for Page[api.Product]; a second type of the same name from
// another package is qualified with its package ("search_Product").
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
		pkg := t.PkgPath()
		qualified := clean(pkg[strings.LastIndex(pkg, "/")+1:] + "_" + base)
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
