package scoring

import "math"

// ECE is the expected calibration error with equal-width confidence bins:
// confidence = max prob, prediction = its index (first on ties); bin b holds
// confidences in (b/bins, (b+1)/bins], confidence 0 going to bin 0.
// ECE = Σ_b |B_b|/n · |acc(B_b) − conf(B_b)|. Rows with no probabilities
// count as wrong with confidence 0. Returns 0 for no items.
func ECE(probs [][]float64, answers []int, bins int) float64 {
	if bins < 1 {
		bins = 1
	}
	n := len(probs)
	if len(answers) < n {
		n = len(answers)
	}
	if n == 0 {
		return 0
	}
	cnt := make([]int, bins)
	accSum := make([]float64, bins)
	confSum := make([]float64, bins)
	for i := 0; i < n; i++ {
		conf, pred := 0.0, -1
		for j, p := range probs[i] {
			if pred < 0 || p > conf {
				conf, pred = p, j
			}
		}
		conf = math.Max(0, math.Min(1, conf))
		b := int(math.Ceil(conf*float64(bins))) - 1
		if b < 0 {
			b = 0
		}
		if b >= bins {
			b = bins - 1
		}
		cnt[b]++
		confSum[b] += conf
		if pred >= 0 && pred == answers[i] {
			accSum[b]++
		}
	}
	ece := 0.0
	for b := range cnt {
		if cnt[b] == 0 {
			continue
		}
		c := float64(cnt[b])
		ece += c / float64(n) * math.Abs(accSum[b]/c-confSum[b]/c)
	}
	return ece
}

// Wilson is the Wilson score interval for a binomial proportion; n = 0
// gives the uninformative [0, 1].
func Wilson(correct, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(correct) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// t975 holds the 0.975 quantiles of Student's t for df 1..30.
var t975 = [...]float64{
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
}

// TQuantile975 returns t(0.975, df): the table for df ≤ 30, beyond it the
// normal quantile with the first two Cornish–Fisher terms (so the value
// approaches 1.960 smoothly instead of jumping there at df 31).
func TQuantile975(df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	if df <= len(t975) {
		return t975[df-1]
	}
	const z = 1.959963984540054
	d := float64(df)
	z3, z5 := z*z*z, z*z*z*z*z
	return z + (z3+z)/(4*d) + (5*z5+16*z3+3*z)/(96*d*d)
}

// MeanCI95 returns the mean and the half-width of its 95% t interval
// (t(0.975, n−1)·s/√n, s the sample standard deviation). The half-width is
// NaN when n < 2 (undefined); the mean is NaN for no data. Callers that
// marshal JSON must handle NaN.
func MeanCI95(xs []float64) (mean, halfwidth float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n < 2 {
		return mean, math.NaN()
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	return mean, TQuantile975(n-1) * sd / math.Sqrt(float64(n))
}
