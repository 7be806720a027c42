package database

import (
	"strings"
	"testing"
)

// FuzzSplitStatements: the migration splitter takes any script without
// panicking, and gives non-empty, trimmed statements that are each a part
// of the script. Seeds: testdata/fuzz/FuzzSplitStatements.
func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE a (x INT); INSERT INTO a VALUES (1);",
		"SELECT ';' -- a comment ;\n; /* ; */ SELECT 1",
		"CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN x > 0 THEN 1 ELSE 2 END; END;",
		"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;",
		"SELECT 'it''s'; SELECT \"q\"\"q\"", "/* unterminated", "'unterminated", "$tag$ body $tag$; x", ";;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		for _, st := range splitStatements(script) {
			if st == "" || st != strings.TrimSpace(st) || !strings.Contains(script, st) {
				t.Fatalf("statement %q of %q", st, script)
			}
		}
	})
}
