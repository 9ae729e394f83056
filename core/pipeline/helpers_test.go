package pipeline

import (
	"fmt"
	"testing"

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
