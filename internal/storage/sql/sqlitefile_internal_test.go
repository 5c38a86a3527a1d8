package sqlstore

import (
	"strings"
	"testing"
	"time"
)

func TestParseSQLiteURL(t *testing.T) {
	for _, c := range []struct {
		in, path, dsnPrefix string
		memory              bool
	}{
		{in: "data/rn.db", path: "data/rn.db", dsnPrefix: "data/rn.db?_pragma="},
		{in: "/abs/rn.db", path: "/abs/rn.db", dsnPrefix: "/abs/rn.db?_pragma="},
		{in: "sqlite:rn.db", path: "rn.db", dsnPrefix: "rn.db?_pragma="},
		{in: "sqlite:///abs/rn.db", path: "/abs/rn.db", dsnPrefix: "/abs/rn.db?_pragma="},
		{in: "file:rn.db", path: "rn.db", dsnPrefix: "file:rn.db?_pragma="},
		{in: "file:my%20rn.db?cache=private", path: "my rn.db", dsnPrefix: "file:my%20rn.db?cache=private&_pragma="},
		{in: "file:///abs/rn.db", path: "/abs/rn.db", dsnPrefix: "file:///abs/rn.db?_pragma="},
		{in: "file://localhost/abs/rn.db", path: "/abs/rn.db", dsnPrefix: "file://localhost/abs/rn.db?_pragma="},
		{in: "sqlite:file:rn.db", path: "rn.db", dsnPrefix: "file:rn.db?_pragma="},
		{in: ":memory:", memory: true, dsnPrefix: ":memory:?_pragma="},
		{in: "file::memory:?cache=shared", memory: true, dsnPrefix: "file::memory:?cache=shared&_pragma="},
		{in: "file:x?mode=memory", memory: true, dsnPrefix: "file:x?mode=memory&_pragma="},
	} {
		got, err := parseSQLiteURL(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got.path != c.path || got.memory != c.memory || !strings.HasPrefix(got.dsn, c.dsnPrefix) ||
			!strings.HasSuffix(got.dsn, "_txlock=immediate") {
			t.Errorf("%q: got path %q memory %v dsn %q", c.in, got.path, got.memory, got.dsn)
		}
	}
	for _, bad := range []string{"", "sqlite:", "file://elsewhere/rn.db", "file:rn.db?a=%zz"} {
		if _, err := parseSQLiteURL(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRebind(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?) LIMIT ?`
	if got := dialectSQLite.rebind(q); got != q {
		t.Errorf("sqlite rebind changed the query: %s", got)
	}
	want := `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT $4`
	if got := dialectPostgres.rebind(q); got != want {
		t.Errorf("postgres rebind = %s, want %s", got, want)
	}
}

func TestTimeEncoding(t *testing.T) {
	for _, in := range []time.Time{
		{},
		time.Date(2026, 11, 23, 10, 30, 15, 123456789, time.FixedZone("CST", 8*3600)),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Now(),
	} {
		var out time.Time
		if err := scanTime(&out).Scan(dialectSQLite.timeArg(in)); err != nil {
			t.Fatalf("scan: %v", err)
		}
		if want := in.Truncate(time.Microsecond); !out.Equal(want) || out.Location() != time.UTC {
			t.Errorf("%v: read back %v, want %v in UTC", in, out, want)
		}
		if in.IsZero() != out.IsZero() {
			t.Errorf("%v: IsZero changed", in)
		}
	}
	if dialectSQLite.nullTimeArg(time.Time{}) != nil || dialectPostgres.nullTimeArg(time.Time{}) != nil {
		t.Error("the zero time is not NULL in a nullable column")
	}
}
