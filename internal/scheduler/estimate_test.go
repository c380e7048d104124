package scheduler

import "testing"

func TestWindowInterpolates(t *testing.T) {
	w := NewWindow(10, 0.99)
	w.Insert(5000)
	if got := w.Estimate(); got != 5000 {
		t.Errorf("one sample: %d, want it", got)
	}
	for i := int64(1); i <= 12; i++ { // the window keeps 3000..12000
		w.Insert(i * 1000)
	}
	if got := w.Estimate(); got != 11910 || w.Len() != 10 { // 0.91 × 12000 + 0.09 × 11000
		t.Errorf("ten samples: %d (%d held), want 11910", got, w.Len())
	}
	w = NewWindow(100, 0.5)
	for i := int64(150); i >= 1; i-- { // keeps 1..100, inserted in falling order
		w.Insert(i)
	}
	if got := w.Estimate(); got != 50 { // rank 49.5: 0.5 × 50 + 0.5 × 51, truncated
		t.Errorf("median of 1..100: %d, want 50", got)
	}
}
