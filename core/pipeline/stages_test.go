package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/events"
)

// A stage stopped by Ctrl-C says "interrupted", not "failed: context
// canceled"; a real failure keeps its message.
func TestStageFinishInterruptedOrFailed(t *testing.T) {
	bus := events.NewBus()
	sub := bus.Subscribe(events.Lossless)
	defer sub.Close()
	b := newStageBoard(bus)
	b.finish(StageGenerator, false, fmt.Errorf("degaml meta-training: %w", context.Canceled))
	b.finish(StagePolicy, false, errors.New("NaN loss"))
	var got []string
	for _, e := range sub.Drain() {
		if e.Kind == events.StageFinished {
			line, _ := events.Describe(e)
			got = append(got, line)
		}
	}
	want := []string{"■ stage generator interrupted", "✗ stage policy failed: NaN loss"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The Results pane's hint names a work dir given with --workdir: `workbench
// bench` without it would write its tables elsewhere.
func TestNoBenchYetNamesTheWorkdir(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadLatestBench(dir)
	if err == nil || !strings.Contains(err.Error(), "workbench bench --workdir "+dir+"`") {
		t.Errorf("got %v, want the hint to name %s", err, dir)
	}
}
