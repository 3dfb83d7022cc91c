package tasklist

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/taskd/taskd/modules/tasks/app/query"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	k := Keys{PriorityRank: 1, DeadlineKey: NoDeadline, CreatedAt: 10, UpdatedAt: 20, ID: "abc"}
	for _, s := range []query.Sort{query.SortPriority, query.SortDeadline, query.SortCreated, query.SortCreatedDesc, query.SortUpdated, query.SortUpdatedDesc} {
		c := EncodeCursor(s, k)
		values, id, err := DecodeCursor(s, c)
		if err != nil || id != "abc" {
			t.Fatalf("%s: %v %q", s, err, id)
		}
		back := KeysFrom(s, values, id)
		if Compare(s, back, k) != 0 {
			t.Fatalf("%s: %+v does not compare equal to %+v", s, back, k)
		}
		for _, other := range []query.Sort{query.SortPriority, query.SortCreatedDesc} {
			if other != s {
				if _, _, err := DecodeCursor(other, c); !errors.Is(err, query.ErrInvalidCursor) {
					t.Fatalf("%s cursor accepted for %s", s, other)
				}
			}
		}
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{"", "!!", enc("null"), enc(`{"v":1,"s":"deadline","k":[1,2],"i":"x"}`), enc(`{"v":2,"s":"deadline","k":[1],"i":"x"}`), enc(`{"v":1,"s":"deadline","k":[1],"i":""}`)} {
		if _, _, err := DecodeCursor(query.SortDeadline, bad); !errors.Is(err, query.ErrInvalidCursor) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCompareAndDeadlineKey(t *testing.T) {
	t.Parallel()
	d := time.Unix(100, 0)
	a := Keys{PriorityRank: 0, DeadlineKey: DeadlineKey(nil), ID: "a"}
	b := Keys{PriorityRank: 0, DeadlineKey: DeadlineKey(&d), ID: "b"}
	if Compare(query.SortPriority, b, a) >= 0 || Compare(query.SortDeadline, b, a) >= 0 {
		t.Fatal("a deadline must sort before none")
	}
	c := Keys{CreatedAt: 5, ID: "c"}
	e := Keys{CreatedAt: 5, ID: "e"}
	if Compare(query.SortCreated, c, e) >= 0 || Compare(query.SortCreatedDesc, c, e) <= 0 {
		t.Fatal("ties are broken by id, reversed when descending")
	}
}

func TestContainsPattern(t *testing.T) {
	t.Parallel()
	if got := ContainsPattern(`50%_off!`); got != `%50!%!_off!!%` {
		t.Fatal(got)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	c, err := Parse(query.Filter{Status: "완료", Priority: "URGENT", NameContains: "ÀB", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != "done" || !c.HasPriority || c.PriorityRank != 0 || c.NameContains != "àb" || c.Limit != query.MaxLimit || c.Sort != query.SortCreatedDesc {
		t.Fatalf("%+v", c)
	}
}
