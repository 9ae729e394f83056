package common

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Wrap word-wraps already styled text to w columns (long words are broken),
// without padding lines to w. w <= 0 returns s unchanged.
func Wrap(s string, w int) string {
	if w <= 0 {
		return s
	}
	return ansi.Wrap(s, w, "")
}

// Hang renders prefix (already styled) followed by the plain text in style,
// wrapped to the w-prefix columns left, continuation lines indented under
// the text: "key = a long value that\n      continues here". When fewer
// than min(20, w/2) columns are left after the prefix, the text starts on
// the next line, indented by two columns.
func Hang(prefix, text string, style lipgloss.Style, w int) string {
	pw := lipgloss.Width(prefix)
	if pw+lipgloss.Width(text) <= w || w <= 0 {
		return prefix + style.Render(text)
	}
	indent := pw
	first := prefix
	if w-pw < min(20, w/2) {
		indent = 2
		first = prefix + "\n" + strings.Repeat(" ", indent)
	}
	lines := strings.Split(Wrap(text, max(1, w-indent)), "\n")
	pad := strings.Repeat(" ", indent)
	for i := range lines {
		lines[i] = style.Render(strings.TrimRight(lines[i], " "))
		if i > 0 {
			lines[i] = pad + lines[i]
		}
	}
	return first + strings.Join(lines, "\n")
}

// Ellipsize cuts styled text to w columns at a word boundary when it can,
// ending in "…" when anything was left out.
func Ellipsize(s string, w int) string {
	if ansi.StringWidth(s) <= w || w <= 1 {
		return s
	}
	cut := ansi.Truncate(s, w-1, "")
	plain := ansi.Strip(cut)
	if i := strings.LastIndex(plain, " "); i > w/2 {
		cut = ansi.Truncate(s, i, "")
	}
	return cut + "…"
}
