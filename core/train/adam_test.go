package train

import (
	"github.com/degaml/workbench/internal/testref"
	"math"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

func testBackend(t testing.TB) compute.Backend { return testref.Backend(t) }

// adamQuadraticStep runs one AdamUpdate on f(p) = ½‖p‖² (so ∇f = p) in float64.
func adamQuadraticStep(t *testing.T, cfg AdamConfig, lr float64, step int, p, m, v []float64) ([]float64, []float64, []float64, float64) {
	t.Helper()
	exec, err := NewExec(testBackend(t), func(p, m, v, lrN, stepN *Node) []*Node {
		loss := MulScalar(ReduceAllSum(Square(p)), 0.5)
		g := Gradient(loss, p)
		g, norm := ClipByGlobalNorm(g, cfg.ClipNorm)
		np, nm, nv := AdamUpdate(cfg, lrN, stepN, []*Node{p}, g, []*Node{m}, []*Node{v})
		return []*Node{np[0], nm[0], nv[0], norm}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(p, m, v, lr, float64(step))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float64](out[0]), tensors.MustCopyFlatData[float64](out[1]),
		tensors.MustCopyFlatData[float64](out[2]), out[3].Value().(float64)
}

func TestAdamFirstStepIsSignStep(t *testing.T) {
	// With bias correction, step 1 has m̂ = g and v̂ = g², so the update is lr·g/(|g|+ε) ≈ lr·sign(g).
	cfg := AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	p, m, v, norm := adamQuadraticStep(t, cfg, 0.1, 1, []float64{1, -2}, []float64{0, 0}, []float64{0, 0})
	want := []float64{0.9, -1.9}
	for i := range want {
		if math.Abs(p[i]-want[i]) > 1e-7 {
			t.Errorf("p[%d] = %.10f, want %.10f", i, p[i], want[i])
		}
	}
	if math.Abs(m[0]-0.1) > 1e-12 || math.Abs(v[1]-0.004) > 1e-12 {
		t.Errorf("moments m=%v v=%v, want m[0]=0.1 v[1]=0.004", m, v)
	}
	if math.Abs(norm-math.Sqrt(5)) > 1e-12 {
		t.Errorf("grad norm %v, want sqrt(5)", norm)
	}
}

func TestAdamWMatchesHostFormula(t *testing.T) {
	cfg := AdamConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}
	p := []float64{1, -2, 0.5}
	m := make([]float64, 3)
	v := make([]float64, 3)
	hp, hm, hv := append([]float64{}, p...), make([]float64, 3), make([]float64, 3)
	for step := 1; step <= 3; step++ {
		p, m, v, _ = adamQuadraticStep(t, cfg, 0.05, step, p, m, v)
		for i := range hp {
			hp[i], hm[i], hv[i] = adamHost(cfg, 0.05, step, hp[i], hp[i], hm[i], hv[i])
		}
	}
	for i := range p {
		if math.Abs(p[i]-hp[i]) > 1e-12 {
			t.Errorf("p[%d]: graph %.15f, host %.15f", i, p[i], hp[i])
		}
	}
	// Hand check of step 1, element 0: decay 0.05·0.1·1 plus sign step 0.05.
	q, _, _, _ := adamQuadraticStep(t, cfg, 0.05, 1, []float64{1}, []float64{0}, []float64{0})
	if math.Abs(q[0]-(1-0.005-0.05)) > 1e-7 {
		t.Errorf("AdamW step 1: %v, want 0.945", q[0])
	}
}

func TestClipByGlobalNorm(t *testing.T) {
	// g = p = (3, 4): norm 5, clipped to 1 → the Adam step still sees direction only, so check the norm and
	// the moments: m = 0.1·g/5.
	cfg := AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, ClipNorm: 1}
	_, m, _, norm := adamQuadraticStep(t, cfg, 0.1, 1, []float64{3, 4}, []float64{0, 0}, []float64{0, 0})
	if math.Abs(norm-5) > 1e-12 {
		t.Errorf("norm %v, want 5", norm)
	}
	if math.Abs(m[0]-0.1*3/(5+1e-6)) > 1e-9 || math.Abs(m[1]-0.1*4/(5+1e-6)) > 1e-9 {
		t.Errorf("clipped moments %v", m)
	}
}
