package infer5

// window is a rolling window of the last estimateWindow measurements with
// the original's percentile: linear interpolation between the two samples
// around rank p·(n−1). With ten samples and p = 0.99 that is 0.91·max +
// 0.09·second-largest, "effectively the max" but not quite.
type window struct {
	v    [estimateWindow]int64
	n    int
	next int
}

func (w *window) insert(x int64) {
	w.v[w.next] = x
	w.next = (w.next + 1) % estimateWindow
	w.n = min(w.n+1, estimateWindow)
}

// percentile returns the p-th percentile of the window; it must not be
// empty. The original interpolates in single precision; this uses double.
func (w *window) percentile(p float64) int64 {
	var s [estimateWindow]int64
	copy(s[:], w.v[:w.n])
	for i := 1; i < w.n; i++ { // insertion sort: ten elements
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	pos := p * float64(w.n-1)
	down := int(pos)
	if float64(down) == pos {
		return s[down]
	}
	up := down + 1
	return int64(float64(s[up])*(pos-float64(down)) + float64(s[down])*(float64(up)-pos))
}
