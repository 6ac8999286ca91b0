package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pipectl/pipectl/runtime"
)

// StatusRunning is the "status" of /job while the server runs (it lives as long as the job).
const StatusRunning = "RUNNING"

// JobStatus is the body of GET /job: the job's Status plus its run status. The Status's
// last_checkpoint_ms and last_savepoint_ms are durations, not times; the same values are also
// served under names that say so (the old names stay for the readers that use them).
type JobStatus struct {
	runtime.Status
	State                    string `json:"status"`
	LastCheckpointDurationMs int64  `json:"last_checkpoint_duration_ms"`
	LastSavepointDurationMs  int64  `json:"last_savepoint_duration_ms"`
}

// Server serves /metrics and /job for one job until Close.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when the serve loop has returned
}

// Bounds of the server: a client that opens connections and sends nothing, or keeps them
// idle, is cut off, and no more than maxConns connections are open at once (Accept waits).
var (
	readTimeout  = 10 * time.Second
	writeTimeout = 30 * time.Second
	idleTimeout  = 60 * time.Second
	maxConns     = 32
)

// Serve listens on addr (host:port; port 0 picks a free one) and serves src's metrics and
// status in the background. A nil log discards the server's errors. An address that is not
// a loopback one (":9249" listens on every interface) is served with a warning: the metrics
// and /job carry no authentication.
func Serve(addr string, src Source, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %q: %w", addr, err)
	}
	if !loopback(addr) {
		log.Warn("the metrics server listens on "+addr+", reachable from other hosts, without authentication; use 127.0.0.1:PORT to keep it local", "addr", addr)
	}
	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           Handler(src, log),
			ReadHeaderTimeout: readTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
	limited := newLimitListener(ln, maxConns)
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err.Error())
		}
	}()
	log.Info("metrics server listening", "addr", s.Addr())
	return s, nil
}

// loopback reports whether addr's host is a loopback address or localhost (an empty host
// or 0.0.0.0 listens on every interface).
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the address the server listens on, with the port it was given (useful after ":0").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server at once, closing its listener and open connections, and waits for
// its serve loop to end: the port is free when Close returns.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if err != nil {
		return fmt.Errorf("metrics: close: %w", err)
	}
	return nil
}

// Handler returns the routes of the server, GET /metrics and GET /job, reading src on every
// request; log receives errors from encoding a scrape or a response.
func Handler(src Source, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(jobCollector{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 2,
	}))
	mux.HandleFunc("GET /job", func(w http.ResponseWriter, _ *http.Request) {
		st := src.Status()
		body, err := json.Marshal(JobStatus{Status: st, State: StatusRunning,
			LastCheckpointDurationMs: st.LastCheckpointMs, LastSavepointDurationMs: st.LastSavepointMs})
		if err != nil {
			log.Warn("metrics: encode /job", "error", err.Error())
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(body, '\n'))
	})
	return mux
}
