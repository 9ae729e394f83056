// Package pipeline shows the staged pipeline (base → collect → generator →
// policy): a progress bar, ETA and cached/fresh status per stage, and the
// live loss curve of the running stage.
package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/tui/chart"
	"github.com/degaml/workbench/tui/common"
)

// Model is the pipeline pane.
type Model struct {
	c    *common.Common
	bar  progress.Model
	w, h int

	// cached chart, redrawn only when the store changes
	chartVer int
	chartOut string
}

// New returns the pane.
func New(c *common.Common) *Model {
	return &Model{c: c, bar: c.Styles.NewProgress(20), chartVer: -1}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.bar.Width = max(10, min(40, w-52))
	m.chartVer = -1
}

// CapturesKeys implements common.Component.
func (m *Model) CapturesKeys() bool { return false }

// Focus implements common.Component.
func (m *Model) Focus() {}

// Blur implements common.Component.
func (m *Model) Blur() {}

// Update has nothing to handle: the pane is fed by the store.
func (m *Model) Update(tea.Msg) (common.Component, tea.Cmd) { return m, nil }

// StateLabel is the fixed on-screen word for a stage state (tests and the
// tmux e2e test match on it).
func StateLabel(st api.StageStatus) string {
	switch st.State {
	case "cached":
		return "cached"
	case "done":
		return "fresh"
	case "running":
		return "running"
	case "failed":
		return "FAILED"
	}
	return "pending"
}

func (m *Model) stateStyle(st api.StageStatus) lipgloss.Style {
	s := m.c.Styles
	switch st.State {
	case "cached", "done":
		return s.Good
	case "running":
		return s.Accent
	case "failed":
		return s.Bad
	}
	return s.Muted
}

// stageMade says what each stage leaves in the work dir (the cache).
var stageMade = map[api.Stage]string{
	api.StageBase:      "pretrained base model: base/",
	api.StageCollect:   "per-task LoRA trajectories: meta/degaml-*/",
	api.StageGenerator: "generalization module G: meta/degaml-*/",
	api.StagePolicy:    "adaptation policy π: meta/degaml-*/",
	api.StageBaselines: "union-lora, maml-en-llm, abmll: meta/<method>-*/",
}

// View renders the stage table (state, time, final loss) and a loss
// chart: the running stage's, or else the last one trained this session.
// When every stage is cached it says where the artifacts are.
func (m *Model) View() string {
	s := m.c.Styles
	store := m.c.Store
	stages := store.Stages
	var b strings.Builder
	b.WriteString(common.Hang(s.Title.Render("Pipeline")+"  ", "base → collect → generator → policy, cached in the work dir", s.Muted, m.w) + "\n\n")
	if len(stages) == 0 {
		b.WriteString(s.Muted.Render("waiting for the engine to report its stages…"))
		return b.String()
	}
	var running *api.StageStatus
	last := ""
	allCached := true
	for i, st := range stages {
		if st.State == "running" && running == nil {
			running = &stages[i]
		}
		if len(store.StageLoss[st.Name]) > 0 {
			last = st.Name
		}
		allCached = allCached && st.State == "cached"
		info := ""
		switch {
		case st.State == "running" && st.ETA > 0:
			info = "ETA " + FormatETA(st.ETA)
		case store.StageTook[st.Name] > 0:
			info = "took " + FormatETA(store.StageTook[st.Name])
		case st.State == "cached":
			info = "from the work dir"
		}
		if pts := store.StageLoss[st.Name]; len(pts) > 0 && st.State != "pending" {
			info += fmt.Sprintf("  loss %.3f", pts[len(pts)-1].Y)
		}
		line := fmt.Sprintf("%-10s %s %4.0f%%  %s  %s",
			st.Name, m.bar.ViewAs(st.Fraction), st.Fraction*100,
			m.stateStyle(st).Render(fmt.Sprintf("%-7s", StateLabel(st))), s.Muted.Render(info))
		b.WriteString(m.c.Renderer.NewStyle().MaxWidth(m.w).Render(line) + "\n")
		if st.Err != "" {
			b.WriteString(s.Bad.Width(m.w).Render("  "+st.Err) + "\n")
		}
	}
	if running == nil && (allCached || last == "") {
		b.WriteString("\n" + s.Heading.Render("Artifacts") + "\n")
		if wd, ok := m.c.Engine.(interface{ Workdir() string }); ok && wd.Workdir() != "" {
			b.WriteString(common.Hang(s.Label.Render("work dir: "), wd.Workdir(), s.Value, m.w) + "\n")
		}
		for _, st := range stages {
			if made := stageMade[api.Stage(st.Name)]; made != "" {
				b.WriteString(common.Hang(s.Label.Render(fmt.Sprintf("%-10s ", st.Name)), made, s.Base, m.w) + "\n")
			}
		}
		if allCached {
			b.WriteString("\n" + s.Muted.Width(m.w).Render("Every stage was loaded from the work dir: nothing to train. Delete a stage's directory to retrain it."))
		}
		return b.String()
	}
	show := last
	if running != nil {
		show = running.Name
	}
	head := b.String()
	ch := m.h - lipgloss.Height(head) - 1
	if ch >= 6 {
		if m.chartVer != store.Version {
			title := "Loss — " + show + " (cross-entropy)"
			if running == nil {
				title = "Loss — " + show + " (cross-entropy, finished)"
			}
			m.chartOut = chart.Render(s, m.w, ch, chart.Panel{Title: title, XLabel: "step",
				Series: []chart.Series{{Name: show, Points: store.StageLoss[show], Style: s.SeriesStyle(0), Glyph: '*'}}})
			m.chartVer = store.Version
		}
		head += "\n" + m.chartOut
	}
	return head
}

// FormatETA renders a duration compactly: 45s, 3m10s, 1h05m.
func FormatETA(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return nil }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return nil }
