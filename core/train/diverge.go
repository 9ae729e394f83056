package train

import "fmt"

// Divergence is the workbench's one policy for a non-finite training step (a NaN/Inf loss or gradient): the
// step is rejected (its update dropped, parameters and optimizer state untouched), the learning rate is halved,
// and MaxRejects rejects in a row (0 = 8) abort the run. Loop applies it to every Step; loops with graphs of
// their own (MAML-en-LLM's and ABMLL's meta-steps) call Reject and Accept themselves.
type Divergence struct {
	MaxRejects int

	scale        float64 // the learning-rate factor: 1 halved once per reject
	inRow, total int
}

// Scale is the factor to apply to the learning rate: 1/2^rejects.
func (d *Divergence) Scale() float64 {
	if d.scale == 0 {
		return 1
	}
	return d.scale
}

// Rejected is the number of steps rejected so far.
func (d *Divergence) Rejected() int { return d.total }

// Accept records a finite step.
func (d *Divergence) Accept() { d.inRow = 0 }

// Reject records a non-finite step and halves the learning rate; it returns an error once MaxRejects steps in
// a row were rejected (the run has diverged).
func (d *Divergence) Reject() error {
	d.scale = d.Scale() / 2
	d.inRow++
	d.total++
	maxRejects := d.MaxRejects
	if maxRejects <= 0 {
		maxRejects = 8
	}
	if d.inRow >= maxRejects {
		return fmt.Errorf("train: %d non-finite steps in a row (learning rate scaled by %.3g)", d.inRow, d.scale)
	}
	return nil
}
