package pipeline

import (
	"github.com/degaml/workbench/tasks"
)

// Instance ranges of the built-in families (ARCHITECTURE.md): meta-training
// and pretraining use instances below EvalFirstInstance; evaluation draws
// above it, so test-time hidden parameters were never seen in training.
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
