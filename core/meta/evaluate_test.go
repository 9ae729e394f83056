package meta

import (
	"math"
	"testing"
)

func TestCombineMajorityMaxConfMean(t *testing.T) {
	// Three members, two items with three options.
	members := [][][]float64{
		{{0.6, 0.3, 0.1}, {0.2, 0.5, 0.3}},
		{{0.4, 0.5, 0.1}, {0.1, 0.1, 0.8}},
		{{0.5, 0.4, 0.1}, {0.45, 0.1, 0.45}},
	}
	maj := combine(members, "majority")
	// Item 0: votes A, B, A → A with share 2/3.
	if ArgMax(maj[0]) != 0 || math.Abs(maj[0][0]-2.0/3) > 1e-4 {
		t.Errorf("majority item 0 = %v, want A with share 2/3", maj[0])
	}
	// Item 1: votes B, C, A (member 3 ties A/C, first wins → A): a 1-1-1 tie broken by summed
	// probability, which is largest for C (0.3+0.8+0.45).
	if ArgMax(maj[1]) != 2 {
		t.Errorf("majority item 1 = %v, want the tie broken towards C", maj[1])
	}
	mc := combine(members, "maxconf")
	// Item 0: most confident member is #0 (0.6); item 1: member #1 (0.8).
	if mc[0][0] != 0.6 || mc[1][2] != 0.8 {
		t.Errorf("maxconf = %v", mc)
	}
	mean := combine(members, VoteMean)
	if math.Abs(mean[0][0]-0.5) > 1e-12 || math.Abs(mean[1][2]-(0.3+0.8+0.45)/3) > 1e-12 {
		t.Errorf("mean = %v", mean)
	}
	for _, p := range append(append(maj, mc...), mean...) {
		var s float64
		for _, v := range p {
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("combined distribution %v does not sum to 1", p)
		}
	}
}
