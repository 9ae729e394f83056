package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

type tasksFamily = tasks.Family

func fmtSscanf(s string, v *int) (int, error) { return fmt.Sscanf(s, "%d", v) }

func mustFamily(t *testing.T, name string) tasks.Family {
	t.Helper()
	f, err := suites.ByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitUntil polls cond until it holds, failing t (naming what) after d: a
// condition that never comes fails here, not at CI's timeout.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// waitClosed waits for ch to close, failing t (naming what) after d.
func waitClosed(t *testing.T, d time.Duration, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
	}
}
