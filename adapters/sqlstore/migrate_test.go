package sqlstore

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	src := "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT 'a;b', `y;` INT);\n/* block; */ CREATE INDEX i ON a (x) ;\n\n" +
		"INSERT INTO a VALUES ('it''s; fine', \"q;\")  -- trailing\n;  ;"
	got, err := SplitStatements(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE TABLE a (x TEXT DEFAULT 'a;b', `y;` INT)",
		"CREATE INDEX i ON a (x)",
		"INSERT INTO a VALUES ('it''s; fine', \"q;\")",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statements %q", len(got), got)
	}
	for i := range want {
		if strings.Join(strings.Fields(got[i]), " ") != want[i] {
			t.Errorf("statement %d = %q, want %q", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"SELECT 'open", "/* open", "SELECT `open"} {
		if _, err := SplitStatements(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestMigrationsOfBothDialectsMatch(t *testing.T) {
	t.Parallel()
	versions := func(d Dialect) []int {
		ms, err := Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		var v []int
		for _, m := range ms {
			v = append(v, m.Version)
			stmts, err := SplitStatements(m.SQL)
			if err != nil || len(stmts) == 0 {
				t.Fatalf("%s %s: %d statements, %v", d.Name, m.Name, len(stmts), err)
			}
		}
		return v
	}
	s, m := versions(SQLite), versions(MySQL)
	if !slices.Equal(s, m) || len(s) == 0 {
		t.Fatalf("SQLite versions %v, MySQL versions %v", s, m)
	}
}

func TestKeysetCondition(t *testing.T) {
	t.Parallel()
	cond, args := keysetCondition([]string{"a", "b", "id"}, []any{1, 2, "x"}, false)
	want := "(a >= ? AND (a > ? OR (a = ? AND (b > ? OR (b = ? AND (id > ?))))))"
	if cond != want {
		t.Fatalf("cond = %s\nwant   %s", cond, want)
	}
	if !slices.Equal(args, []any{1, 1, 1, 2, 2, "x"}) {
		t.Fatalf("args = %v", args)
	}
	cond, args = keysetCondition([]string{"c", "id"}, []any{5, "y"}, true)
	if cond != "(c <= ? AND (c < ? OR (c = ? AND (id < ?))))" || !slices.Equal(args, []any{5, 5, 5, "y"}) {
		t.Fatalf("desc: %s %v", cond, args)
	}
}

func TestFoldedLike(t *testing.T) {
	t.Parallel()
	cond, arg := SQLite.foldedLike("name", "A_b%!")
	if cond != "taskd_fold(name) LIKE ? ESCAPE '!'" || arg != "%a!_b!%!!%" {
		t.Fatalf("sqlite: %s %v", cond, arg)
	}
	cond, _ = MySQL.foldedLike("name", "x")
	if cond != "name LIKE ? ESCAPE '!'" {
		t.Fatalf("mysql: %s", cond)
	}
}
