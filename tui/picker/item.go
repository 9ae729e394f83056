package picker

import (
	"fmt"

	"github.com/degaml/workbench/core/api"
)

// item adapts a SuiteInfo to list.DefaultItem.
type item struct{ s api.SuiteInfo }

func (i item) Title() string { return fmt.Sprintf("%s %s", badge(i.s.Role), i.s.Name) }
func (i item) Description() string {
	if i.s.Domain == "" {
		return roleName(i.s.Role)
	}
	return roleName(i.s.Role) + " · " + i.s.Domain
}

// FilterValue lets "/math" or "/out" find suites by domain or role too.
func (i item) FilterValue() string { return i.s.Name + " " + i.s.Domain + " " + i.s.Role }

func badge(role string) string {
	switch role {
	case "in-domain":
		return "[ID] "
	case "out-of-domain":
		return "[OOD]"
	}
	return "[file]"
}

func roleName(role string) string {
	switch role {
	case "in-domain", "out-of-domain":
		return role
	}
	return "user task file"
}

// groupRank orders the list: in-domain, out-of-domain, then user files.
func groupRank(role string) int {
	switch role {
	case "in-domain":
		return 0
	case "out-of-domain":
		return 1
	}
	return 2
}
