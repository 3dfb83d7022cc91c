package event_test

import (
	"testing"

	"github.com/taskd/taskd/modules/kernel/event"
)

type testEvent struct {
	event.Meta
}

func (testEvent) Name() string { return "TestEvent" }

func TestRecorder(t *testing.T) {
	t.Parallel()
	var r event.Recorder
	if r.Len() != 0 || r.PopEvents() != nil {
		t.Fatal("a new recorder is not empty")
	}
	r.Record(testEvent{event.Meta{Sequence: 1}})
	r.Record(testEvent{event.Meta{Sequence: 2}})
	if r.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", r.Len())
	}
	evs := r.PopEvents()
	if len(evs) != 2 || evs[0].EventMeta().Sequence != 1 || evs[1].EventMeta().Sequence != 2 {
		t.Fatalf("PopEvents() = %+v", evs)
	}
	if r.Len() != 0 || len(r.PopEvents()) != 0 {
		t.Error("PopEvents did not forget")
	}
	// Events recorded after a pop do not reach the slice handed out before.
	r.Record(testEvent{event.Meta{Sequence: 3}})
	if evs[0].EventMeta().Sequence != 1 || len(evs) != 2 {
		t.Error("a popped slice changed after a new Record")
	}
}
