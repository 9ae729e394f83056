package models

import "math"

// RopeInvFreq returns the HeadDim/2 rotary inverse frequencies of cfg, rounded to float32 as torch keeps them:
// inv_freq_i = 1/theta^(2i/HeadDim) (HF's "default" rope), then, for a llama3 RopeScaling, transformers'
// _compute_llama3_parameters: with wavelength λ = 2π/inv_freq and the original context L,
//   - λ < L/high_freq_factor (high frequencies): kept;
//   - λ > L/low_freq_factor (low frequencies): divided by factor;
//   - between: (1−s)·inv_freq/factor + s·inv_freq, s = (L/λ − low_freq_factor)/(high_freq_factor − low_freq_factor).
//
// The scaling is applied to the float32-rounded default frequencies (torch computes it on that tensor) in
// float64, then rounded once; torch's float32 arithmetic may differ in the last bit.
func RopeInvFreq(cfg Config) []float32 {
	half := cfg.HeadDim / 2
	out := make([]float32, half)
	r := cfg.RopeScaling
	for i := range half {
		inv := float64(float32(1 / math.Pow(cfg.RopeTheta, float64(2*i)/float64(cfg.HeadDim))))
		if r.Type == "llama3" {
			L := float64(r.OriginalMaxPositions)
			wavelen := 2 * math.Pi / inv
			switch {
			case wavelen < L/r.HighFreqFactor:
			case wavelen > L/r.LowFreqFactor:
				inv /= r.Factor
			default:
				s := (L/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				inv = (1-s)*inv/r.Factor + s*inv
			}
		}
		out[i] = float32(inv)
	}
	return out
}
