package picker

import (
	"sort"
	"strings"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
)

// preview renders the selected suite: what it is, one example item, and for
// built-in suites the hidden parameter that adaptation has to discover.
func preview(st *common.Styles, s api.SuiteInfo, w, h int) string {
	if w < 10 {
		return ""
	}
	wrap := st.Base.Width(w)
	var b strings.Builder
	b.WriteString(st.Title.Render(s.Name) + "\n")
	b.WriteString(st.Label.Render("Role: ") + st.Value.Render(roleName(s.Role)))
	if s.Domain != "" {
		b.WriteString(st.Label.Render("  Domain: ") + st.Value.Render(s.Domain))
	}
	b.WriteString("\n\n")
	if s.Description != "" {
		b.WriteString(wrap.Render(s.Description) + "\n\n")
	}
	if len(s.Hidden) > 0 {
		keys := make([]string, 0, len(s.Hidden))
		for k := range s.Hidden {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+" = "+s.Hidden[k])
		}
		b.WriteString(st.Heading.Render("Hidden parameter") + st.Muted.Render(" (the model must discover it)") + "\n")
		b.WriteString(st.Accent.Render(strings.Join(parts, ", ")) + "\n\n")
	}
	if s.Example != "" {
		b.WriteString(st.Heading.Render("Example item") + "\n")
		b.WriteString(st.Card.Width(w - 2).Render(s.Example))
	}
	return st.Renderer().NewStyle().MaxHeight(h).Render(b.String())
}
