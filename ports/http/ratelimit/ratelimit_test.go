package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskd/taskd/ports/http/ratelimit"
)

func TestKeyed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	k := ratelimit.NewKeyed(ratelimit.Limit{Events: 3, Per: time.Minute}, clock, 0)
	for i := range 3 {
		if _, _, ok := k.Take("a"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	_, retry, ok := k.Take("a")
	if ok || retry != 20*time.Second {
		t.Fatalf("4th: ok %v retry %v", ok, retry)
	}
	if _, _, ok := k.Take("b"); !ok {
		t.Fatal("another key limited")
	}
	now = now.Add(20 * time.Second)
	res, _, ok := k.Take("a")
	if !ok {
		t.Fatal("no refill")
	}
	res.Cancel()
	if _, _, ok := k.Take("a"); !ok {
		t.Fatal("cancel did not give the token back")
	}
}

func TestKeyedForgetsIdleKeys(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := ratelimit.NewKeyed(ratelimit.Limit{Events: 1, Per: time.Second}, func() time.Time { return now }, 10)
	for i := range 10 {
		k.Take(fmt.Sprint(i))
	}
	now = now.Add(time.Second)
	k.Take("new")
	if k.Len() != 1 {
		t.Fatalf("%d keys kept", k.Len())
	}
}

func TestDisabled(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Limit{Events: -1}, nil, 0)
	for range 100 {
		if _, _, ok := k.Take("a"); !ok {
			t.Fatal("disabled limit limits")
		}
	}
}
