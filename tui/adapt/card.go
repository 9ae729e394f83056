package adapt

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tui/common"
	"github.com/degaml/workbench/tui/state"
)

// FamilyLabel is the display name of a hypothesis family (core/api's).
func FamilyLabel(f string) string { return api.Family(f).Label() }

// hypothesisCard shows the hypothesis the policy chose and its reward, in
// at most h lines (borders included; h <= 0: no limit). Every line is
// wrapped to the card; when the card is too short, the policy's reason
// (last) is cut first and ends in "…".
func hypothesisCard(st *common.Styles, run *state.Run, w, h int, why bool, title string) string {
	inner := max(1, w-4) // border and padding
	var lines []string
	add := func(s string) {
		lines = append(lines, strings.Split(st.Renderer().NewStyle().Width(inner).Render(s), "\n")...)
	}
	add(st.Heading.Render(title))
	render := func() string {
		if h > 2 && len(lines) > h-2 {
			lines = lines[:h-2]
			last := strings.TrimRight(ansi.Strip(lines[len(lines)-1]), " ")
			lines[len(lines)-1] = st.Muted.Render(ansi.Truncate(last, inner-1, "") + "…")
		}
		return st.Card.Width(w - 2).Render(strings.Join(lines, "\n"))
	}
	if run == nil {
		add(st.Muted.Render("no decoupled run yet"))
		return render()
	}
	h0 := run.Chosen
	if h0 == nil && len(run.Hyps) > 0 {
		h0 = &run.Hyps[len(run.Hyps)-1]
		add(st.Muted.Render("trying…"))
	}
	if h0 == nil {
		add(st.Muted.Render("the policy is choosing…"))
		return render()
	}
	fam := FamilyLabel(h0.Family)
	if i := run.ChosenTrial(); i >= 0 && run.Chosen != nil && h0.Family != "none" {
		fam += fmt.Sprintf(" (trial #%d in the table)", i+1)
	}
	add(st.Label.Render("Family: ") + st.Value.Render(fam))
	add(st.Label.Render("Params: ") + st.Base.Render(events.FormatParams(h0.Params)))
	add(rewardLine(st, h0))
	rewarded := 0
	tried := 0
	for _, x := range run.Hyps {
		if x.Family != "none" {
			tried++
		}
		if x.Reward != nil && *x.Reward > 0 && x.Family != "none" {
			rewarded++
		}
	}
	add(st.Muted.Render(fmt.Sprintf("tried %d on validation, %d no worse than generated", tried, rewarded)))
	if why && h0.Why != "" {
		add(st.Muted.Render(h0.Why))
	}
	return render()
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
		// Reward is 1 when the hypothesis is no worse than the generated
		// adapter on validation, so a tie earns it too: say so.
		cmp, tie := "<", ""
		switch {
		case *h.Accuracy == *h.Baseline:
			cmp, tie = "=", " (a tie counts as no worse)"
		case *h.Accuracy > *h.Baseline:
			cmp = ">"
		}
		s += st.Muted.Render(fmt.Sprintf("  val acc %.3f %s generated %.3f%s", *h.Accuracy, cmp, *h.Baseline, tie))
	}
	return s
}
