package database

import "strings"

// Values builds a multi-row INSERT: head (up to and without VALUES), then
// one (?, …) group of width placeholders for each of n rows, whose
// arguments row(i) gives.
func Values(head string, n, width int, row func(i int) []any) (string, []any) {
	group := "(" + strings.Repeat("?, ", width-1) + "?)"
	var sql strings.Builder
	sql.Grow(len(head) + 8 + n*(len(group)+2))
	sql.WriteString(head)
	sql.WriteString(" VALUES ")
	args := make([]any, 0, n*width)
	for i := range n {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString(group)
		args = append(args, row(i)...)
	}
	return sql.String(), args
}
