package adapt

import (
	"fmt"
	"sort"
	"strings"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// FamilyLabel is the display name of a hypothesis family.
func FamilyLabel(f string) string {
	switch f {
	case "ttt":
		return "TTT"
	case "tts":
		return "TTS"
	case "mix":
		return "mixing"
	case "slot":
		return "SLOT"
	}
	return f
}

// FormatParams renders hyperparameters sorted by name: "lr=1e-05 steps=20".
func FormatParams(p map[string]float64) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + fmt.Sprintf("%g", p[k])
	}
	return strings.Join(parts, " ")
}

// hypothesisCard shows the hypothesis the policy chose and its reward.
func hypothesisCard(st *common.Styles, run *state.Run, w int, why bool, title string) string {
	title = st.Heading.Render(title)
	if run == nil {
		return st.Card.Width(w - 2).Render(title + "\n" + st.Muted.Render("no decoupled run yet"))
	}
	var b strings.Builder
	b.WriteString(title + "\n")
	h := run.Chosen
	if h == nil && len(run.Hyps) > 0 {
		h = &run.Hyps[len(run.Hyps)-1]
		b.WriteString(st.Muted.Render("trying…") + "\n")
	}
	if h == nil {
		b.WriteString(st.Muted.Render("the policy is choosing…"))
		return st.Card.Width(w - 2).Render(b.String())
	}
	b.WriteString(st.Label.Render("Family: ") + st.Value.Render(FamilyLabel(h.Family)) + "\n")
	b.WriteString(st.Label.Render("Params: ") + st.Base.Render(FormatParams(h.Params)) + "\n")
	b.WriteString(rewardLine(st, h) + "\n")
	rewarded := 0
	for _, x := range run.Hyps {
		if x.Reward != nil && *x.Reward > 0 {
			rewarded++
		}
	}
	b.WriteString(st.Muted.Render(fmt.Sprintf("tried %d, rewarded %d", len(run.Hyps), rewarded)))
	if why && h.Why != "" {
		b.WriteString("\n" + st.Muted.Render(h.Why))
	}
	return st.Card.Width(w - 2).Render(b.String())
}

func rewardLine(st *common.Styles, h *events.HypothesisInfo) string {
	s := st.Label.Render("Reward: ")
	if h.Reward == nil {
		return s + st.Muted.Render("pending")
	}
	r := st.Bad.Render(fmt.Sprintf("%g", *h.Reward))
	if *h.Reward > 0 {
		r = st.Good.Render(fmt.Sprintf("%g", *h.Reward))
	}
	s += r
	if h.Accuracy != nil && h.Baseline != nil {
		s += st.Muted.Render(fmt.Sprintf("  val acc %.3f vs %.3f", *h.Accuracy, *h.Baseline))
	}
	return s
}
