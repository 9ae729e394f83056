// Package results shows the latest bench table (methods × suites, mean ±
// 95% CI), refetched when a Result event arrives.
package results

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// LoadedMsg carries a fetched table.
type LoadedMsg struct {
	Table *api.BenchTable
	Err   error
}

// Model is the results pane.
type Model struct {
	c     *common.Common
	t     *api.BenchTable
	err   error
	col   int // first visible suite column (horizontal scroll)
	w, h  int
	left  key.Binding
	right key.Binding
	fetch key.Binding
}

// New returns the pane.
func New(c *common.Common) *Model {
	return &Model{c: c,
		left:  key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "scroll")),
		right: key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "scroll")),
		fetch: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
	}
}

// Fetch reads the latest table off the UI goroutine.
func (m *Model) Fetch() tea.Cmd {
	eng := m.c.Engine
	return func() tea.Msg {
		t, err := eng.LatestBench()
		return LoadedMsg{Table: t, Err: err}
	}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return m.Fetch() }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.w, m.h = w, h }

// CapturesKeys implements common.Component.
func (m *Model) CapturesKeys() bool { return false }

// Focus implements common.Component.
func (m *Model) Focus() {}

// Blur implements common.Component.
func (m *Model) Blur() {}

// Update handles scrolling and loaded tables.
func (m *Model) Update(msg tea.Msg) (common.Component, tea.Cmd) {
	switch msg := msg.(type) {
	case LoadedMsg:
		m.t, m.err = msg.Table, msg.Err
	case tea.MouseMsg:
		// The wheel scrolls the table's columns (it is wide, not long).
		switch msg.Button {
		case tea.MouseButtonWheelUp, tea.MouseButtonWheelLeft:
			m.col = max(0, m.col-1)
		case tea.MouseButtonWheelDown, tea.MouseButtonWheelRight:
			if m.t != nil && m.col < len(m.t.Columns)-1 {
				m.col++
			}
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.left):
			m.col = max(0, m.col-1)
		case key.Matches(msg, m.right):
			if m.t != nil && m.col < len(m.t.Columns)-1 {
				m.col++
			}
		case key.Matches(msg, m.fetch):
			return m, m.Fetch()
		}
	}
	return m, nil
}

const (
	methodW = 13
	cellW   = 11
)

// Cell formats a cell as percent mean ± CI ("55.5±2.1"), "—" when not run;
// "‡" marks a mean that includes flagged runs (e.g. diverged).
func Cell(c api.BenchCell) string {
	if c.N == 0 {
		return "—"
	}
	s := fmt.Sprintf("%.1f±%.1f", c.Mean*100, c.CI95*100)
	if c.Flagged > 0 {
		s += "‡"
	}
	return s
}

// View renders the bench table's visible columns, then this session's
// adaptation results (the bench table only changes with `workbench bench`).
func (m *Model) View() string {
	st := m.c.Styles
	title := st.Title.Render("Results")
	var top string
	switch {
	case m.err != nil:
		top = st.Muted.Width(m.w).Render(m.err.Error())
	case m.t == nil || len(m.t.Rows) == 0:
		top = st.Muted.Width(m.w).Render("No bench results yet: run `workbench bench` for the full table.")
	default:
		top = m.benchView()
	}
	out := title + "\n" + top
	if runs := m.sessionView(m.h - lipgloss.Height(out) - 1); runs != "" {
		out += "\n\n" + runs
	}
	return out
}

// sessionView lists the finished adaptation runs of this session, newest
// last, in at most h lines ("" when there are none or no room).
func (m *Model) sessionView(h int) string {
	st := m.c.Styles
	var runs []*state.Run
	for _, r := range m.c.Store.Runs {
		if r.Result != nil {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 || h < 4 {
		return ""
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Seq < runs[j].Seq })
	if n := h - 3; len(runs) > n { // heading, header, rule
		runs = runs[len(runs)-n:]
	}
	rows := make([][]string, 0, len(runs))
	for _, r := range runs {
		res := r.Result
		ece := "—"
		if res.ECE != nil {
			ece = fmt.Sprintf("%.3f", *res.ECE)
		}
		task := res.Task
		if task == "" {
			task = r.Task
		}
		acc := fmt.Sprintf("%.3f", res.Accuracy)
		if res.Flag != "" {
			acc += " ‡" // not a normal result (e.g. diverged); the Adapt pane's warning says why
		}
		rows = append(rows, []string{string(r.Method), task, fmt.Sprint(res.Seed), acc, ece,
			fmt.Sprint(res.N), fmt.Sprintf("%.1fs", res.WallS)})
	}
	tb := table.New().
		Border(lipgloss.NormalBorder()).BorderStyle(st.Muted).
		BorderColumn(false).BorderLeft(false).BorderRight(false).BorderTop(false).BorderBottom(false).
		Headers("method", "task", "seed", "acc", "ECE", "n", "wall").Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow {
				return st.Heading.PaddingRight(2)
			}
			return st.Base.PaddingRight(2)
		})
	head := common.Hang(st.Heading.Render("This session")+"  ", "adaptation runs on their test split", st.Muted, m.w)
	return head + "\n" + st.Renderer().NewStyle().MaxWidth(m.w).Render(tb.String())
}

func (m *Model) benchView() string {
	st := m.c.Styles
	t := m.t
	ncol := max(1, (m.w-methodW-2)/(cellW+1))
	first := min(m.col, max(0, len(t.Columns)-ncol))
	last := min(len(t.Columns), first+ncol)
	headers := append([]string{"method"}, t.Columns[first:last]...)
	best := bestRows(t)
	var rows [][]string
	for _, r := range t.Rows {
		row := []string{r.Method}
		for j := first; j < last; j++ {
			c := api.BenchCell{}
			if j < len(r.Cells) {
				c = r.Cells[j]
			}
			row = append(row, Cell(c))
		}
		rows = append(rows, row)
	}
	tb := table.New().
		Border(lipgloss.NormalBorder()).BorderStyle(st.Muted).
		BorderColumn(false).BorderLeft(false).BorderRight(false).BorderTop(false).BorderBottom(false).
		Headers(headers...).Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			w := cellW
			if col == 0 {
				w = methodW
			}
			s := st.Base.Width(w)
			switch {
			case row == table.HeaderRow:
				s = st.Heading.Width(w)
			case col > 0 && best[first+col-1] == row:
				s = st.Good.Bold(true).Width(w)
			}
			return s
		})
	sub := st.Muted.Width(m.w).Render(fmt.Sprintf("%s — accuracy %% (mean ± 95%% CI); best per suite highlighted", t.Title))
	scroll := ""
	if first > 0 || last < len(t.Columns) {
		scroll = st.Muted.Width(m.w).Render(fmt.Sprintf("suites %d–%d of %d  (←/→ to scroll)", first+1, last, len(t.Columns)))
	}
	return strings.TrimRight(strings.Join([]string{sub, "", tb.String(), scroll}, "\n"), "\n")
}

// bestRows returns, per column, the row index with the highest mean.
func bestRows(t *api.BenchTable) []int {
	best := make([]int, len(t.Columns))
	for j := range t.Columns {
		best[j] = -1
		for i, r := range t.Rows {
			if j < len(r.Cells) && r.Cells[j].N > 0 && (best[j] < 0 || r.Cells[j].Mean > t.Rows[best[j]].Cells[j].Mean) {
				best[j] = i
			}
		}
	}
	return best
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.left, m.right, m.fetch} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
