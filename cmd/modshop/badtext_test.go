package main

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/modshop/modshop/platform/testkit"
)

// TestNULAndInvalidUTF8AreRefused sends every route of the binary a NUL
// byte and invalid UTF-8 in each path parameter, in the query and in a
// body, on SQLite and PostgreSQL: each is a 4xx problem, never a 500
// (PostgreSQL refuses NUL in text, and answered GET /v1/products/%00 500).
func TestNULAndInvalidUTF8AreRefused(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		shop := testkit.Start(t, modules, testkit.Options{DB: &db})
		admin := "Bearer " + shop.AdminToken()
		keys := make([]string, 0)
		for key := range registeredRoutes(shop) {
			if _, path, _ := strings.Cut(key, " "); strings.HasPrefix(path, "/v1/") {
				keys = append(keys, key)
			}
		}
		sort.Strings(keys)
		for _, key := range keys {
			method, path, _ := strings.Cut(key, " ")
			for _, bad := range []string{"%00", "a%00b", "%FF", "%C3%28"} {
				segs := strings.Split(path, "/")
				params := 0
				for i, s := range segs {
					if strings.HasPrefix(s, ":") {
						segs[i] = bad
						params++
					}
				}
				var body any
				if method != http.MethodGet && method != http.MethodDelete {
					body = "{}"
				}
				target := strings.Join(segs, "/")
				if params == 0 {
					target += "?q=" + bad + "&cursor=" + bad
				}
				res := shop.Do(testkit.Req{Method: method, Path: target, Body: body, Header: map[string]string{"Authorization": admin}})
				if res.Status < 400 || res.Status >= 500 {
					t.Errorf("%s %s: %d, want a 4xx; body %s", method, target, res.Status, res.Body)
				}
			}
		}
		// Bodies: text fields with a NUL byte or invalid UTF-8.
		for _, tt := range []struct{ path, body string }{
			{"/v1/auth/register", `{"email":"a\u0000@example.com","password":"long enough","name":"A"}`},
			{"/v1/auth/login", `{"email":"a@example.com\u0000","password":"x"}`},
			{"/v1/auth/register", "{\"email\":\"b@example.com\",\"password\":\"long enough\",\"name\":\"\xff\"}"},
			{"/v1/admin/products", `{"slug":"x\u0000","title":"t","status":"draft","variants":[{"sku":"S","title":"M","price":1}]}`},
		} {
			res := shop.Do(testkit.Req{Method: http.MethodPost, Path: tt.path, Body: tt.body, Header: map[string]string{"Authorization": admin}})
			testkit.ExpectProblem(t, res, http.StatusBadRequest, "bad_request")
		}
	})
}
