package promtext

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	e := NewWriter(&b)
	e.Family("x_total", "counter", "a\\b\nc")
	e.Sample("x_total", []string{"gpu", "0", "path", `a"b\c`}, 3)
	e.Sample("x_total", nil, 1e9)
	bounds := []float64{0.5, 1}
	var h Histogram
	for _, v := range []float64{0.25, 0.5, 0.75, 2} {
		h.Observe(bounds, v)
	}
	e.Family("y", "histogram", "h")
	e.Histogram("y", []string{"model", "3"}, bounds, &h)
	n, err := e.Flush()
	want := "# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\n" +
		"x_total{gpu=\"0\",path=\"a\\\"b\\\\c\"} 3\n" +
		"x_total 1000000000\n" +
		"# HELP y h\n# TYPE y histogram\n" +
		"y_bucket{model=\"3\",le=\"0.5\"} 2\n" +
		"y_bucket{model=\"3\",le=\"1\"} 3\n" +
		"y_bucket{model=\"3\",le=\"+Inf\"} 4\n" +
		"y_sum{model=\"3\"} 3.5\n" +
		"y_count{model=\"3\"} 4\n"
	if b.String() != want || n != int64(len(want)) || err != nil {
		t.Errorf("wrote %d, %v:\n%s\nwant:\n%s", n, err, b.String(), want)
	}
	if err := Validate(b.String()); err != nil {
		t.Error(err)
	}
	// A clone shares nothing.
	c := h.Clone()
	h.Observe(bounds, 0.1)
	if c.counts[0] != 2 || c.Sum != 3.5 {
		t.Errorf("the clone changed: %+v", c)
	}
}

func TestValidateRefuses(t *testing.T) {
	ok := "# HELP a x\n# TYPE a counter\na 1\n"
	for _, bad := range []string{
		"",
		"a 1\n",
		ok + "# HELP a x\n# TYPE a counter\n",
		"# HELP a x\n# TYPE a counter\nb 1\n",
		"# HELP a x\n# TYPE a counter\na{x=\"1\" 1\n",
		"# HELP a x\n# TYPE a counter\na -1\n",
		"# HELP a x\n# TYPE a nope\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
		ok + "a 2\n",
		"# HELP h x\n# TYPE h histogram\nh 3\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{a=\"1\",le=\"+Inf\"} 2\nh_sum{a=\"1\"} 1\nh_count{a=\"1\"} 2\nh_sum{a=\"2\"} 1\nh_count{a=\"2\"} 2\n",
	} {
		if Validate(bad) == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	for _, good := range []string{ok, "# HELP x_bucket x\n# TYPE x_bucket counter\nx_bucket{a=\"1\"} 5\nx_bucket{a=\"2\"} 3\n"} {
		if err := Validate(good); err != nil {
			t.Error(err)
		}
	}
}

func TestURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8002": "http://127.0.0.1:8002/metrics",
		"[::1]:8002":     "http://[::1]:8002/metrics",
		"0.0.0.0:8002":   "http://localhost:8002/metrics",
		"[::]:8002":      "http://localhost:8002/metrics",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := URL(a); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestServe(t *testing.T) {
	var out, errOut bytes.Buffer
	s, err := Serve("127.0.0.1:0", func(w io.Writer) { io.WriteString(w, "# HELP a x\n# TYPE a counter\na 1\n") }, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimPrefix(strings.TrimSpace(out.String()), "Serving metrics at ")
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/metrics", 200, "a 1\n"},
		{"HEAD", "/metrics", 200, ""},
		{"POST", "/metrics", 405, "method not allowed\n"},
		{"GET", "/other", 404, "404 page not found\n"},
	} {
		req, _ := http.NewRequest(tc.method, strings.TrimSuffix(url, "/metrics")+tc.path, nil)
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		if rsp.StatusCode != tc.code || !strings.HasSuffix(string(body), tc.body) {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, rsp.StatusCode, body)
		}
		if tc.code == 200 && rsp.Header.Get("Content-Type") != ContentType {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, rsp.Header.Get("Content-Type"))
		}
	}
	s.Close()
	if _, err := http.Get(url); err == nil {
		t.Error("still serving after Close")
	}
	if errOut.Len() != 0 {
		t.Errorf("errors: %s", errOut.String())
	}
}
