package clock

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkAlarmLateness sets an alarm d ahead and waits for it, and
// reports how late its owner woke: the p50 and p99 of the lateness, in µs.
// A simulated GPU (worker_dummy) wakes so late after each operation.
func BenchmarkAlarmLateness(b *testing.B) {
	for _, d := range []time.Duration{20 * time.Microsecond, 200 * time.Microsecond, 2 * time.Millisecond, 3300 * time.Microsecond, 10 * time.Millisecond} {
		b.Run(d.String(), func(b *testing.B) {
			a := NewAlarm()
			defer a.Stop()
			late := make([]int64, 0, b.N)
			for range b.N {
				wake := Now() + int64(d)
				a.Set(wake)
				for Now() < wake {
					<-a.C
					a.Set(wake) // an early ring: re-arm, as owners do
				}
				late = append(late, Now()-wake)
			}
			slices.Sort(late)
			b.ReportMetric(float64(late[len(late)/2])/1e3, "p50-late-µs")
			b.ReportMetric(float64(late[len(late)*99/100])/1e3, "p99-late-µs")
		})
	}
}
