package promtext

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ContentType is the text format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Server serves GET /metrics.
type Server struct {
	srv  *http.Server
	done chan struct{}
}

// Serve listens on addr (host:port; port 0 picks one) and answers GET
// /metrics with what write writes, saying where on out ("Serving metrics
// at URL"); errors of the server after it started go to errOut.
func Serve(addr string, write func(io.Writer), out, errOut io.Writer) (*Server, error) {
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
		w.Header().Set("Content-Type", ContentType)
		if r.Method == http.MethodGet {
			write(w)
		}
	})
	s := &Server{
		// The timeouts keep a slow or stuck scraper from holding a
		// connection open for ever.
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute},
		done: make(chan struct{}),
	}
	where := "at"
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		where = "on every interface, at"
	}
	fmt.Fprintf(out, "Serving metrics %s %s\n", where, URL(ln.Addr()))
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(errOut, "metrics server: %v\n", err)
		}
	}()
	return s, nil
}

// URL is where a scraper on this machine finds the metrics served on a:
// localhost where a is every interface.
func URL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return "http://" + a.String() + "/metrics"
	}
	return fmt.Sprintf("http://localhost:%d/metrics", ta.Port)
}

// Close stops serving, letting a scrape in progress finish for up to a
// second.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
	<-s.done
}
