package telemetry

import (
	"io"
	"math"
	"sort"
	"strconv"
)

// DefaultSummaryInterval is how often the controller's summaries print.
const DefaultSummaryInterval = 10_000_000_000

// referenceClock is the GPU clock (MHz) that norm_* columns normalise to.
const referenceClock = 1380

// Summary accumulates action and request telemetry between console
// summaries and renders them in the original's formats (spec/controller.md
// §8.4): per (worker, GPU, action type) lines for successful LoadWeights and
// Infer actions, and one client line.
//
// The original prints when a record arrives and the interval has elapsed
// since its previous print, and its first interval starts at time 0, so the
// first lines report near-zero throughputs. A Summary's intervals start at
// the time given to NewSummary instead; otherwise MaybePrint, called after
// records are added, behaves like the original. Actions and requests keep
// separate intervals, as the original's two printers do.
//
// Not safe for concurrent use.
type Summary struct {
	// Interval is the minimum time between two prints of each kind.
	Interval int64

	actions     map[groupKey]*groupStats
	actionsSeen bool // any action record, even one no line shows
	actionsLast int64

	client     clientStats
	clientLast int64
}

type groupKey struct{ worker, gpu, actionType int }

type groupStats struct {
	n                  int64
	minDur, maxDur     int64
	sumDur             int64
	sumE2E, maxE2E     int64
	minClock, maxClock int
	sumNorm, maxNorm   int64
}

type clientStats struct {
	successes, violations int64
	sumLatency            int64
	minLatency            int64
	maxLatency            int64
}

// NewSummary starts a summary whose first intervals begin at start.
func NewSummary(start int64) *Summary {
	return &Summary{
		Interval:    DefaultSummaryInterval,
		actions:     make(map[groupKey]*groupStats),
		actionsLast: start,
		clientLast:  start,
		client:      clientStats{minLatency: math.MaxInt64},
	}
}

// Start begins the first intervals at now: the controller's sink calls it
// when the scheduler starts, so that the first lines do not count the
// startup phase, however long it waited for clients.
func (s *Summary) Start(now int64) { s.actionsLast, s.clientLast = now, now }

// AddAction accounts for one completed action. Only successful LoadWeights
// and Infer actions appear in the lines.
func (s *Summary) AddAction(r *ActionRecord) {
	s.actionsSeen = true
	if r.Status != 0 || (r.ActionType != ActionLoadWeights && r.ActionType != ActionInfer) {
		return
	}
	k := groupKey{r.Worker, r.GPU, r.ActionType}
	g := s.actions[k]
	if g == nil {
		g = &groupStats{minDur: math.MaxInt64, minClock: math.MaxInt}
		s.actions[k] = g
	}
	d := r.WorkerDuration
	e2e := r.ResultReceived - r.Sent
	norm := d * int64(r.WorkerGPUClock) / referenceClock
	g.n++
	g.minDur, g.maxDur, g.sumDur = min(g.minDur, d), max(g.maxDur, d), g.sumDur+d
	g.sumE2E, g.maxE2E = g.sumE2E+e2e, max(g.maxE2E, e2e)
	g.minClock, g.maxClock = min(g.minClock, r.WorkerGPUClock), max(g.maxClock, r.WorkerGPUClock)
	g.sumNorm, g.maxNorm = g.sumNorm+norm, max(g.maxNorm, norm)
}

// AddRequest accounts for one answered request. Any non-zero status is a
// violation; lateness of successful requests is not.
func (s *Summary) AddRequest(r *RequestRecord) {
	c := &s.client
	if r.Result != 0 {
		c.violations++
		return
	}
	l := r.Departure - r.Arrival
	c.successes++
	c.sumLatency += l
	c.minLatency, c.maxLatency = min(c.minLatency, l), max(c.maxLatency, l)
}

// MaybePrint writes to w, one per line, the summaries that have records and
// whose interval has elapsed at now, and starts their next interval.
func (s *Summary) MaybePrint(now int64, w io.Writer) error {
	if s.actionsSeen && s.actionsLast+s.Interval <= now {
		for _, l := range s.ActionLines(now) {
			if _, err := io.WriteString(w, l+"\n"); err != nil {
				return err
			}
		}
	}
	if s.client.successes+s.client.violations > 0 && s.clientLast+s.Interval <= now {
		if _, err := io.WriteString(w, s.ClientLine(now)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// ActionLines renders the per-GPU lines for the interval ending at now,
// ordered by worker, GPU and action type, and starts a new interval.
func (s *Summary) ActionLines(now int64) []string {
	interval := float64(max(now-s.actionsLast, 1))
	keys := make([]groupKey, 0, len(s.actions))
	for k := range s.actions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.worker != b.worker {
			return a.worker < b.worker
		}
		if a.gpu != b.gpu {
			return a.gpu < b.gpu
		}
		return a.actionType < b.actionType
	})

	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		g := s.actions[k]
		label := " Infer"
		if k.actionType == ActionLoadWeights {
			label = " LoadW"
		}
		b := make([]byte, 0, 200)
		b = append(b, 'W')
		b = strconv.AppendInt(b, int64(k.worker), 10)
		b = append(b, "-GPU"...)
		b = strconv.AppendInt(b, int64(k.gpu), 10)
		b = append(b, label...)
		b = appendMillis(append(b, " min="...), g.minDur)
		b = appendMillis(append(b, " max="...), g.maxDur)
		b = appendMillis(append(b, " mean="...), mean(g.sumDur, g.n))
		b = appendMillis(append(b, " e2emean="...), mean(g.sumE2E, g.n))
		b = appendMillis(append(b, " e2emax="...), g.maxE2E)
		b = strconv.AppendFloat(append(b, " throughput="...), float64(g.n)*1e9/interval, 'f', 1, 64)
		b = strconv.AppendFloat(append(b, " utilization="...), float64(g.sumDur)/interval, 'f', 2, 64)
		b = strconv.AppendInt(append(b, " clock=["...), int64(g.minClock), 10)
		b = strconv.AppendInt(append(b, '-'), int64(g.maxClock), 10)
		b = appendMillis(append(b, "] norm_max="...), g.maxNorm)
		b = appendMillis(append(b, " norm_mean="...), mean(g.sumNorm, g.n))
		lines = append(lines, string(b))
	}

	clear(s.actions)
	s.actionsSeen = false
	s.actionsLast = now
	return lines
}

// ClientLine renders the client line for the interval ending at now and
// starts a new interval.
func (s *Summary) ClientLine(now int64) string {
	c := s.client
	interval := float64(max(now-s.clientLast, 1))
	s.client = clientStats{minLatency: math.MaxInt64}
	s.clientLast = now

	b := make([]byte, 0, 128)
	if c.successes == 0 {
		b = append(b, "Client throughput=0 success=0% ("...)
		b = strconv.AppendInt(b, c.violations, 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, c.violations, 10)
		return string(append(b, " violations)"...))
	}
	total := c.successes + c.violations
	b = strconv.AppendFloat(append(b, "Client throughput="...), 1e9*float64(c.successes)/interval, 'f', 1, 64)
	b = strconv.AppendFloat(append(b, " success="...), 100*(float64(c.successes)/float64(total)), 'f', 2, 64)
	b = append(b, '%')
	if c.violations > 0 {
		b = strconv.AppendInt(append(b, " ("...), c.violations, 10)
		b = strconv.AppendInt(append(b, '/'), total, 10)
		b = append(b, " violations)"...)
	}
	b = strconv.AppendFloat(append(b, " min="...), float64(c.minLatency)/1e6, 'f', 1, 64)
	b = strconv.AppendFloat(append(b, " max="...), float64(c.maxLatency)/1e6, 'f', 1, 64)
	b = strconv.AppendFloat(append(b, " mean="...), float64(c.sumLatency/c.successes)/1e6, 'f', 1, 64)
	return string(b)
}

// NetworkLine renders the controller's network summary from the traffic to
// and from workers over an interval of the given length: bytes and messages
// sent and received (each message counts its body plus 48 framing bytes).
// Rates are truncated to whole bytes and messages per second first, as the
// original does; MB means 2^20 bytes.
func NetworkLine(sentBytes, sentMsgs, rcvdBytes, rcvdMsgs uint64, seconds float64) string {
	rate := func(n uint64) uint64 {
		if seconds <= 0 {
			return 0
		}
		return uint64(float64(n) / seconds)
	}
	b := make([]byte, 0, 96)
	b = append(b, "Network->Workers: "...)
	b = strconv.AppendFloat(b, float64(rate(sentBytes))/(1<<20), 'f', 1, 64)
	b = strconv.AppendUint(append(b, "MB/s ("...), rate(sentMsgs), 10)
	b = append(b, " msgs) snd, "...)
	b = strconv.AppendFloat(b, float64(rate(rcvdBytes))/(1<<20), 'f', 1, 64)
	b = strconv.AppendUint(append(b, "MB/s ("...), rate(rcvdMsgs), 10)
	b = append(b, " msgs) rcv, "...)
	return string(b)
}

// mean is the original's mean: a floating-point average truncated to whole
// nanoseconds.
func mean(sum, n int64) int64 { return int64(float64(sum) / float64(n)) }

// appendMillis appends ns as milliseconds with two decimals.
func appendMillis(b []byte, ns int64) []byte {
	return strconv.AppendFloat(b, float64(ns)/1e6, 'f', 2, 64)
}
