package pipeline

import (
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// Instance ranges of the built-in families (ARCHITECTURE.md): meta-training
// uses task worlds below EvalFirstInstance; evaluation draws above it, so
// test-time worlds were never seen in training (their regimes were, through
// other worlds). Pretraining uses separate worlds (suites.Pretraining).
const EvalFirstInstance = 500

// TrainTasks returns n training instances of each family, starting at
// instance first (all below EvalFirstInstance).
func TrainTasks(fams []tasks.Family, first, n int, seed int64) []*tasks.Task {
	var out []*tasks.Task
	for _, f := range fams {
		for i := first; i < min(first+n, EvalFirstInstance); i++ {
			out = append(out, f.Instance(seed, i, ""))
		}
	}
	return out
}

// EvalTask picks the held-out instance a seed evaluates on.
func EvalTask(f tasks.Family, seed int64) *tasks.Task {
	span := int64(f.NumInstances() - EvalFirstInstance)
	i := EvalFirstInstance + int(((seed%span)+span)%span)
	return f.Instance(0, i, "")
}

// InDomain and OutOfDomain split a family list by role.
func InDomain(fams []tasks.Family) []tasks.Family { return byRole(fams, tasks.InDomain) }

// OutOfDomain returns the out-of-domain families.
func OutOfDomain(fams []tasks.Family) []tasks.Family { return byRole(fams, tasks.OutOfDomain) }

func byRole(fams []tasks.Family, r tasks.Role) []tasks.Family {
	var out []tasks.Family
	for _, f := range fams {
		if f.Role() == r {
			out = append(out, f)
		}
	}
	return out
}

// Evaluation protocols: which suites a method meta-trains on before it is
// evaluated on a task (README "Protocols").
const (
	// ProtocolPaper is the paper's: an in-domain suite is held out of
	// collection and meta-training (the other five in-domain suites are the
	// pool); out-of-domain suites are evaluated after meta-training on all six
	// in-domain suites. The default of `workbench bench`.
	ProtocolPaper = "paper"
	// ProtocolWorlds evaluates held-out worlds (new tags, seen regimes) of
	// suites that were in meta-training: every method meta-trains on all six
	// in-domain suites. An upper reference, and the TUI's default.
	ProtocolWorlds = "worlds"
)

// Protocols lists the evaluation protocols.
func Protocols() []string { return []string{ProtocolPaper, ProtocolWorlds} }

// HeldOutSuite is the in-domain suite left out of meta-training when a task
// of suite is evaluated under protocol ("" when none is).
func HeldOutSuite(protocol, suite string) string {
	if protocol != ProtocolPaper {
		return ""
	}
	for _, f := range InDomain(suites.All()) {
		if f.Name() == suite {
			return suite
		}
	}
	return ""
}

// MetaTrainPool is the meta-training pool: n task worlds (instances 0..n-1,
// all below EvalFirstInstance) of every in-domain suite except heldOut.
func MetaTrainPool(n int, heldOut string) []*tasks.Task {
	var fams []tasks.Family
	for _, f := range InDomain(suites.All()) {
		if f.Name() != heldOut {
			fams = append(fams, f)
		}
	}
	return TrainTasks(fams, 0, n, 0)
}
