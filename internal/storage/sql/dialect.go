package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dialect is the SQL flavour of a Store.
type dialect int

const (
	dialectSQLite dialect = iota + 1
	dialectPostgres
)

// String is the dialect's name as reported by Store.Dialect.
func (d dialect) String() string {
	switch d {
	case dialectSQLite:
		return "sqlite"
	case dialectPostgres:
		return "postgres"
	}
	return "unknown"
}

// rebind turns the ? placeholders of q into $1, $2, … for PostgreSQL. The
// queries of this package never contain a literal question mark (no string
// literals with ?, no jsonb ? operators), so a plain scan is enough.
func (d dialect) rebind(q string) string {
	if d != dialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// normTime is the form every time takes before it is written: UTC, without a
// monotonic reading, truncated to the microsecond PostgreSQL keeps.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// timeArg encodes a time for a NOT NULL column. SQLite stores INTEGER unix
// microseconds (sortable, and wide enough for the zero time.Time);
// PostgreSQL stores timestamptz.
func (d dialect) timeArg(t time.Time) any {
	t = normTime(t)
	if d == dialectSQLite {
		return t.UnixMicro()
	}
	return t
}

// nullTimeArg encodes a time for a nullable column: the zero time is NULL.
func (d dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// bytesArg encodes a byte slice: empty is NULL, so both dialects agree (an
// empty blob and NULL are not reliably told apart by the SQLite driver).
func bytesArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// timeDest scans a time column of either dialect into *t: INTEGER unix
// microseconds (SQLite), a time.Time (PostgreSQL) or NULL (the zero time).
// The result is always in UTC.
type timeDest struct{ t *time.Time }

// Scan implements sql.Scanner.
func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

// scanTime returns a sql.Scanner writing into t.
func scanTime(t *time.Time) timeDest { return timeDest{t} }
