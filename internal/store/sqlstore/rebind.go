package sqlstore

import (
	"strconv"
	"strings"
)

// RebindDollar rewrites the ? placeholders of query into $1, $2, ... (the
// PostgreSQL form), leaving question marks inside quoted strings and
// identifiers alone. Dialects that number their placeholders use it as
// their Rebind.
func RebindDollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var sb strings.Builder
	sb.Grow(len(query) + 16)
	n := 0
	var quote byte // the quote character we are inside, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			// A doubled quote inside a quoted run is an escaped quote and
			// toggles twice, which leaves us inside.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
