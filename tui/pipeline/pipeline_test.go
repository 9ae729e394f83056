package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/degaml/workbench/tui/internal/fakeengine"
	"github.com/degaml/workbench/tui/internal/testutil"
)

func TestGolden(t *testing.T) {
	for _, sz := range testutil.Sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			eng := fakeengine.New()
			c := testutil.Common(t, eng)
			settle := testutil.Collect(c, eng)
			eng.StartPipeline(t.Context())
			settle()
			c.Store.SetStages(eng.Stages())
			c.Store.SetStages(eng.Stages()) // what the root fetches after Init
			testutil.RunGolden(t, New(c), sz[0], sz[1], nil)
		})
	}
}

func TestLabels(t *testing.T) {
	eng := fakeengine.New()
	c := testutil.Common(t, eng)
	settle := testutil.Collect(c, eng)
	eng.StartPipeline(t.Context())
	settle()
	c.Store.SetStages(eng.Stages()) // what the root fetches after Init
	m := New(c)
	m.SetSize(100, 30)
	v := m.View()
	for _, want := range []string{"cached", "running", "pending", "ETA 2m10s", "Loss — generator"} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q in\n%s", want, v)
		}
	}
}

func TestFormatETA(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 190 * time.Second: "3m10s", 65 * time.Minute: "1h05m"} {
		if got := FormatETA(d); got != want {
			t.Errorf("%v: %s", d, got)
		}
	}
}
