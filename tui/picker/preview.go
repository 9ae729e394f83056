package picker

import (
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
func preview(st *common.Styles, s api.SuiteInfo, w, h int) string {
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
	blocks = append(blocks, st.Renderer().NewStyle().Width(w).Render(role), "")
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
			lines = append(lines, hanging(st, k+" = ", s.Hidden[k], w))
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

// hanging renders "key = value" wrapped to w with continuation lines
// indented under the value (or by two columns when the key is long).
func hanging(st *common.Styles, head, value string, w int) string {
	indent := lipgloss.Width(head)
	if indent > w/2 {
		indent = 2
	}
	if lipgloss.Width(head)+lipgloss.Width(value) <= w {
		return st.Accent.Render(head + value)
	}
	first := st.Accent.Render(head)
	body := st.Accent.Width(w - indent).Render(value)
	lines := strings.Split(body, "\n")
	pad := strings.Repeat(" ", indent)
	if indent == lipgloss.Width(head) {
		lines[0] = first + lines[0]
		for i := 1; i < len(lines); i++ {
			lines[i] = pad + lines[i]
		}
		return strings.Join(lines, "\n")
	}
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return first + "\n" + strings.Join(lines, "\n")
}
