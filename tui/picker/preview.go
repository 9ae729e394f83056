package picker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
)

// preview renders the selected suite: what it is, one example item, and for
// built-in suites the hidden parameter that adaptation has to discover.
// Every block is wrapped to w: a line wider than the pane would be wrapped
// again by the screen, into the list's column.
func preview(st *common.Styles, s api.SuiteInfo, world *api.World, w, h int) string {
	if w < 10 {
		return ""
	}
	wrap := func(style lipgloss.Style, text string) string { return style.Width(w).Render(text) }
	var blocks []string
	blocks = append(blocks, wrap(st.Title, s.Name))
	role := st.Label.Render("Role: ") + st.Value.Render(roleName(s.Role))
	if s.Domain != "" {
		role += st.Label.Render("  Domain: ") + st.Value.Render(s.Domain)
	}
	blocks = append(blocks, st.Renderer().NewStyle().Width(w).Render(role))
	if world != nil && world.Task != "" {
		inst := st.Label.Render("Instance: ") + st.Value.Render(world.Task) + st.Label.Render(fmt.Sprintf(" (seed %d, n: next seed on Adapt)", world.Seed))
		blocks = append(blocks, st.Renderer().NewStyle().Width(w).Render(inst))
		if world.Show != "" {
			blocks = append(blocks, common.Hang(st.Label.Render("Same as: "), world.Show, st.Muted, w))
		}
	}
	blocks = append(blocks, "")
	if s.Description != "" {
		blocks = append(blocks, wrap(st.Base, s.Description), "")
	}
	if len(s.Hidden) > 0 {
		keys := make([]string, 0, len(s.Hidden))
		for k := range s.Hidden {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// One parameter per line: several long ones joined by commas read as
		// one run-on list once wrapped.
		var lines []string
		for _, k := range keys {
			lines = append(lines, common.Hang(st.Accent.Render(k+" = "), s.Hidden[k], st.Accent, w))
		}
		blocks = append(blocks,
			st.Renderer().NewStyle().Width(w).Render(st.Heading.Render("Hidden parameter")+st.Muted.Render(" (the model must discover it)")),
			strings.Join(lines, "\n"), "")
	}
	if s.Example != "" {
		blocks = append(blocks, wrap(st.Heading, "Example item"), st.Card.Width(w-2).Render(s.Example))
	}
	out := strings.Join(blocks, "\n")
	return st.Renderer().NewStyle().MaxHeight(h).MaxWidth(w).Render(out)
}
