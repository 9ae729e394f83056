package picker

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/bubbles/list"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/tui/common"
)

// delegate is the default two-line item plus a line above it that names the
// group (in-domain, out-of-domain, task files) on the group's first item —
// bubbles/list has no sections, so the heading lives in the item's height.
type delegate struct {
	list.DefaultDelegate
	heading lipgloss.Style
}

func newDelegate(st *common.Styles) delegate {
	d := list.NewDefaultDelegate()
	d.Styles = st.DelegateStyles()
	d.SetSpacing(0)
	return delegate{DefaultDelegate: d, heading: st.Muted}
}

func (d delegate) Height() int { return d.DefaultDelegate.Height() + 1 }

func (d delegate) Render(w io.Writer, m list.Model, index int, it list.Item) {
	head := ""
	vis := m.VisibleItems()
	cur, ok := it.(item)
	if ok && (index == 0 || index > len(vis)-1 || groupRank(vis[index-1].(item).s.Role) != groupRank(cur.s.Role)) {
		name := groupName(cur.s.Role)
		line := "── " + name + " " + strings.Repeat("─", max(0, m.Width()-len(name)-5))
		head = d.heading.Render(ansi.Truncate(line, m.Width()-1, ""))
	}
	fmt.Fprintln(w, head)
	d.DefaultDelegate.Render(w, m, index, it)
}

func groupName(role string) string {
	switch groupRank(role) {
	case 0:
		return "in-domain"
	case 1:
		return "out-of-domain"
	}
	return "task files"
}
