package main

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/modshop/modshop/platform/testkit"
)

// updateOpenAPI rewrites docs/openapi.json from the code:
// go test ./cmd/modshop -run TestOpenAPIDocumentIsCheckedIn -update-openapi
var updateOpenAPI = flag.Bool("update-openapi", false, "write the served OpenAPI document to docs/openapi.json")

const openAPIFile = "../../docs/openapi.json"

// TestOpenAPIDocumentIsCheckedIn: docs/openapi.json, which the linters
// check and the client is generated from, is what the binary serves, so a
// route or type changed in code without regenerating the file fails here.
func TestOpenAPIDocumentIsCheckedIn(t *testing.T) {
	shop := testkit.Start(t, modules, testkit.Options{})
	served := testkit.Expect(t, shop.Get("/openapi.json", ""), 200).Body
	if *updateOpenAPI {
		if err := os.WriteFile(openAPIFile, served, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	file, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, served) {
		t.Fatalf("docs/openapi.json is not the served document; regenerate it with\n\tgo test ./cmd/modshop -run TestOpenAPIDocumentIsCheckedIn -update-openapi")
	}
}
