package controllercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/clockwork-go/clockwork/internal/telemetry"
)

// metricsServer serves GET /metrics in Prometheus's text format.
type metricsServer struct {
	srv  *http.Server
	done chan struct{}
}

// serveMetrics listens on addr (host:port; port 0 picks one) and serves
// m there, saying where on out.
func serveMetrics(addr string, m *telemetry.Metrics, out, errOut io.Writer) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot serve metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if r.Method == http.MethodGet {
			m.WriteTo(w)
		}
	})
	s := &metricsServer{
		// The timeouts keep a slow or stuck scraper from holding a
		// connection open for ever.
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute},
		done: make(chan struct{}),
	}
	where := "at"
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		where = "on every interface, at"
	}
	fmt.Fprintf(out, "Serving metrics %s %s\n", where, metricsURL(ln.Addr()))
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(errOut, "metrics server: %v\n", err)
		}
	}()
	return s, nil
}

// metricsURL is where a scraper on this machine finds the metrics served
// on a: localhost where a is every interface.
func metricsURL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return "http://" + a.String() + "/metrics"
	}
	return fmt.Sprintf("http://localhost:%d/metrics", ta.Port)
}

// Close stops serving, letting a scrape in progress finish for up to a
// second.
func (s *metricsServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
	<-s.done
}
