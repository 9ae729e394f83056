package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/sched"
	"github.com/degaml/workbench/tasks/suites"
)

// TestSessionSubmitsUnderItsOwnName never trains: the single worker is held
// by a blocker job, so the session's jobs stay queued until Close cancels
// them.
func TestSessionSubmitsUnderItsOwnName(t *testing.T) {
	cfg := defaultConfig(t, "")
	cfg.Serve.Workers = 1
	w, err := Open(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	release := make(chan struct{})
	defer close(release)
	blocker, err := w.Scheduler().Submit(context.Background(), "blocker", "hold", func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the blocker job starts running", func() bool { return blocker.State() == sched.Running })

	ctx := context.Background()
	s1, s2 := w.ForSession("ssh-1"), w.ForSession("ssh-2")
	suite := suites.All()[0].Name()
	id, err := s1.Adapt(ctx, api.AdaptRequest{Suite: suite, Method: meta.Base, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !s1.Owns(id) || s2.Owns(id) {
		t.Fatalf("ownership of %s: s1=%v s2=%v", id, s1.Owns(id), s2.Owns(id))
	}
	jobs := s1.Jobs()
	if len(jobs) != 1 || jobs[0].Session != "ssh-1" || jobs[0].State() != sched.Queued {
		t.Fatalf("jobs = %+v", jobs)
	}
	if p := w.Scheduler().Position(jobs[0]); p != 0 {
		t.Fatalf("position = %d, want 0", p)
	}
	if _, err := s2.Chat(ctx, api.ChatRequest{AdaptRun: id, Prompt: "hi"}); err == nil {
		t.Fatal("a session chatted with another session's adaptation run")
	}
	if _, err := s1.Chat(ctx, api.ChatRequest{AdaptRun: id, Prompt: "hi"}); err != nil {
		t.Fatal(err)
	}
	if n := len(s1.Jobs()); n != 2 {
		t.Fatalf("%d live jobs, want 2", n)
	}

	s1.Close()
	for _, j := range jobs {
		waitClosed(t, 30*time.Second, "job "+j.Name+" ends after Close", j.Done())
		if j.State() != sched.Canceled {
			t.Fatalf("job %q is %v after Close", j.Name, j.State())
		}
	}
	w.runsMu.Lock()
	_, kept := w.runs[id]
	w.runsMu.Unlock()
	if kept {
		t.Fatal("a closed session's adaptation run is still kept")
	}
	if _, err := s1.Adapt(ctx, api.AdaptRequest{Suite: suite, Method: meta.Base}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Adapt after Close: %v", err)
	}
	if blocker.State() != sched.Running {
		t.Fatal("closing a session canceled another session's job")
	}
}
