package actor_test

import (
	"context"
	"testing"

	"github.com/taskd/taskd/modules/kernel/actor"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a                  actor.Actor
		admin, manager, zr bool
	}{
		{actor.Actor{UserID: "u", Role: "member"}, false, false, false},
		{actor.Actor{UserID: "u", Role: "manager"}, false, true, false},
		{actor.Actor{UserID: "u", Role: "admin"}, true, true, false},
		{actor.System, false, false, true},
		{actor.Actor{}, false, false, true},
	}
	for _, tt := range tests {
		if tt.a.IsAdmin() != tt.admin || tt.a.IsManager() != tt.manager || tt.a.IsZero() != tt.zr {
			t.Errorf("%+v: IsAdmin %v IsManager %v IsZero %v", tt.a, tt.a.IsAdmin(), tt.a.IsManager(), tt.a.IsZero())
		}
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	if _, ok := actor.FromContext(context.Background()); ok {
		t.Error("found an actor in an empty context")
	}
	want := actor.Actor{UserID: "u-1", Role: "admin"}
	got, ok := actor.FromContext(actor.WithActor(context.Background(), want))
	if !ok || got != want {
		t.Errorf("FromContext = %+v, %v; want %+v", got, ok, want)
	}
}
