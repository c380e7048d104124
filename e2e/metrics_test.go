package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/promtext"
)

// TestMetricsAgreeWithTheLogs runs INFER5 with -metrics behind a client,
// scrapes /metrics once the client has gone and the counts have settled,
// and checks them against the request and action logs written by the same
// controller: requests by model and status, SLOs met, and actions by GPU,
// type and status; requests for unknown model ids are counted apart. The
// worker's own metrics agree with the controller's on what each GPU did.
func TestMetricsAgreeWithTheLogs(t *testing.T) {
	logs := t.TempDir()
	w, wport := startWorker(t, "-n", "2", "--metrics", "127.0.0.1:0")
	wurl := w.waitFor(`^Serving metrics at (http://127\.0\.0\.1:\d+/metrics)$`, time.Second)[1]
	c := start(t, nil, "controller", "-port", "0", "-log-dir", logs, "-metrics", "127.0.0.1:0", "INFER5", "localhost:"+wport)
	url := c.waitFor(`^Serving metrics at (http://127\.0\.0\.1:\d+/metrics)$`, 10*time.Second)[1]
	cport := c.waitFor(`IO service thread listening for clients on 0\.0\.0\.0:(\d+)`, 10*time.Second)[1]
	cl := start(t, []string{"CLOCKWORK_MODEL_DIR=" + zoo, "CLOCKWORK_DISABLE_INPUTS=1"},
		"client", "-summary-period", "1s", "localhost:"+cport, "simple")
	cl.waitFor(nonZeroThroughput, 30*time.Second)
	cl.Stop()
	unknown := &rawClient{t: t, port: cport}
	for _, id := range []uint64{9999, 1 << 31, 12345} {
		if status := unknown.infer(id); status != 1 {
			t.Fatalf("model %d: status %d, want 1", id, status)
		}
	}

	// Scrape until two scrapes a quarter of a second apart agree.
	var m, last map[string]float64
	for i := 0; ; i++ {
		m = scrape(t, url)
		if last != nil && fmt.Sprint(m) == fmt.Sprint(last) {
			break
		}
		if i == 40 {
			t.Fatal("the metrics did not settle in 10 s")
		}
		last = m
		time.Sleep(250 * time.Millisecond)
	}
	c.Stop()

	// The request log: t, request_id, result, user_id, model_id, …, deadline_met (9th).
	want := map[string]float64{}
	rows := tsvRows(t, filepath.Join(logs, "clockwork_request_log.tsv"))
	for _, r := range rows {
		if id, _ := strconv.Atoi(r[4]); id < 0 || id >= 2 { // simple loads models 0 and 1
			want[`clockwork_requests_unknown_model_total`]++
			continue
		}
		want[`clockwork_requests_total{model="`+r[4]+`",status="`+r[2]+`"}`]++
		if r[8] == "1" {
			want[`clockwork_requests_slo_met_total{model="`+r[4]+`"}`]++
		}
		want[`clockwork_request_latency_seconds_count{model="`+r[4]+`"}`]++
	}
	// The action log: t, action_id, action_type, status, worker_id, gpu_id.
	names := map[string]string{"1": "load_weights", "2": "infer", "3": "evict_weights"}
	for _, r := range tsvRows(t, filepath.Join(logs, "clockwork_action_log.tsv")) {
		want[`clockwork_actions_total{worker="`+r[4]+`",gpu="`+r[5]+`",action="`+names[r[2]]+`",status="`+r[3]+`"}`]++
	}
	if len(rows) < 50 {
		t.Fatalf("only %d requests logged", len(rows))
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %g, the logs say %g", k, m[k], v)
		}
	}
	for k, v := range m {
		if strings.HasPrefix(k, "clockwork_requests_total") || strings.HasPrefix(k, "clockwork_actions_total") {
			if _, ok := want[k]; !ok && v != 0 {
				t.Errorf("%s = %g, not in the logs", k, v)
			}
		}
	}
	wm := scrape(t, wurl)
	for g := range 2 {
		for _, a := range []string{"infer", "load_weights"} {
			ours := fmt.Sprintf(`clockwork_worker_gpu_actions_total{gpu="%d",action="%s",status="0"}`, g, a)
			theirs := fmt.Sprintf(`clockwork_actions_total{worker="0",gpu="%d",action="%s",status="0"}`, g, a)
			if wm[ours] != m[theirs] || m[theirs] == 0 {
				t.Errorf("the worker says %s = %g, the controller %s = %g", ours, wm[ours], theirs, m[theirs])
			}
		}
	}
	if wm["clockwork_worker_models"] != 2 || wm[`clockwork_worker_weights_cache_pages{gpu="1",state="used"}`] == 0 {
		t.Errorf("worker memory: %v", wm)
	}
	for _, k := range []string{`clockwork_network_bytes_total{direction="sent"}`, `clockwork_network_messages_total{direction="received"}`,
		`clockwork_gpu_exec_seconds_total{worker="0",gpu="0"}`, `clockwork_infer_prediction_error_ratio_count`} {
		if m[k] <= 0 {
			t.Errorf("%s = %g", k, m[k])
		}
	}
}

// scrape GETs url and returns its samples, series name to value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	rsp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil || rsp.StatusCode != http.StatusOK || rsp.Header.Get("Content-Type") != promtext.ContentType {
		t.Fatalf("GET %s: %s, %q, %v", url, rsp.Status, rsp.Header.Get("Content-Type"), err)
	}
	if err := promtext.Validate(string(b)); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	m := map[string]float64{}
	sample := regexp.MustCompile(`^([a-z_]+(?:\{[^}]*\})?) (\S+)$`)
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "# ") {
			continue
		}
		s := sample.FindStringSubmatch(l)
		if s == nil {
			t.Fatalf("not a sample: %q", l)
		}
		v, err := strconv.ParseFloat(s[2], 64)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		m[s[1]] = v
	}
	return m
}

// tsvRows returns a TSV file's rows after its header, split into columns.
func tsvRows(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")[1:] {
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows
}
