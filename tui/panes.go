package tui

// Pane identifies a screen; the order is the tab order.
type Pane int

// The panes, in tab order.
const (
	PaneTasks Pane = iota
	PanePipeline
	PaneAdapt
	PaneChat
	PaneResults
	PaneKnobs
	numPanes
)

// Title is the tab label (stable: the e2e test matches on it).
func (p Pane) Title() string {
	return [...]string{"Tasks", "Pipeline", "Adapt", "Chat", "Results", "Knobs"}[p]
}
