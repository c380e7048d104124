package bench

import (
	"errors"
	"io"
	"math"
	"slices"
	"time"
)

// Window selects the rows measured: those that departed at least Warmup
// after the log's first row and before End. Skipping the warm-up leaves out
// the start-up transient (cold models, an empty pipeline); End leaves out
// the drain after the clients stopped.
type Window struct {
	Warmup time.Duration
	End    int64 // controller-clock ns; 0: up to the last row
}

// Stats are the figures of one run.
type Stats struct {
	Seconds    float64 // length of the measured window
	Answered   int     // responses in the window
	Successes  int     // ... with status 0
	Good       int     // ... with status 0 and deadline_met 1
	Late       int     // successes departing after their deadline
	Goodput    float64 // Good per second
	Throughput float64 // Successes per second
	// Latency of the successful responses, controller arrival to departure.
	P50, P99, Max time.Duration
	// Statuses counts responses by status code.
	Statuses map[int32]int
}

// ErrNoRows is returned when the window holds no responses.
var ErrNoRows = errors.New("bench: no responses in the measured window")

// Analyze reads a request log and measures the rows in w.
func Analyze(r io.Reader, w Window) (Stats, error) {
	var rows []Row
	if err := ReadRequestLog(r, func(row Row) { rows = append(rows, row) }); err != nil {
		return Stats{}, err
	}
	return Measure(rows, w)
}

// Measure computes the figures of the rows in w; rows are in departure order.
func Measure(rows []Row, w Window) (Stats, error) {
	if len(rows) == 0 {
		return Stats{}, ErrNoRows
	}
	from := rows[0].T + int64(w.Warmup)
	to := w.End
	if to == 0 {
		to = rows[len(rows)-1].T + 1
	}
	s := Stats{Statuses: map[int32]int{}}
	var lat []int64
	for _, r := range rows {
		if r.T < from || r.T >= to {
			continue
		}
		s.Answered++
		s.Statuses[r.Result]++
		if r.Result != 0 {
			continue
		}
		s.Successes++
		lat = append(lat, r.Latency)
		if r.DeadlineMet {
			s.Good++
		} else if r.Deadline >= 0 {
			s.Late++
		}
	}
	if s.Answered == 0 || to <= from {
		return Stats{}, ErrNoRows
	}
	s.Seconds = float64(to-from) / 1e9
	s.Goodput = float64(s.Good) / s.Seconds
	s.Throughput = float64(s.Successes) / s.Seconds
	if len(lat) > 0 {
		slices.Sort(lat)
		s.P50 = time.Duration(percentile(lat, 0.50))
		s.P99 = time.Duration(percentile(lat, 0.99))
		s.Max = time.Duration(lat[len(lat)-1])
	}
	return s, nil
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int64, p float64) int64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
