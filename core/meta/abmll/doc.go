// Package abmll is ABMLL (Zhang, Snell, Griffiths 2025): amortized Bayesian
// meta-learning of LoRA, a Gaussian over each targeted weight update whose
// mean and standard deviation are LoRA pairs; registered with core/meta as
// abmll. The objective and its deviations are written out in abmll.go.
package abmll
