package ui

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
)

// Timeouts of the control calls the dashboard makes.
const (
	statusTimeout    = 2 * time.Second
	actionTimeout    = 30 * time.Second
	savepointTimeout = 10 * time.Minute
)

// maxBodyBytes bounds a POST body.
const maxBodyBytes = 64 << 10

// CompatFunc checks the pipeline file at path against job id the way `pipectl check-compat
// FILE --job ID` does, in format "text" or "json". It returns the report, whether the
// pipeline is compatible, and an error when no report could be made (the file is missing or
// invalid, the job unknown); the error's message is for the user.
type CompatFunc func(ctx context.Context, id, path, format string) (report string, compatible bool, err error)

// Config is what a Server needs.
type Config struct {
	// Home is the pipectl home whose jobs the dashboard shows.
	Home string
	// Token, when set, is required as `Authorization: Bearer <Token>` on every request.
	Token string
	// Compat makes compatibility reports.
	Compat CompatFunc
	// Log receives errors worth an operator's attention (nil: discarded).
	Log *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Server serves the dashboard of the jobs under one pipectl home.
type Server struct {
	cfg Config
}

// New returns a dashboard server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg}
}

// Handler returns every route of the dashboard behind the token check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/jobs", s.listJobs)
	mux.HandleFunc("GET /api/jobs/{id}", s.jobDetail)
	for _, a := range []string{"savepoint", "stop", "cancel", "compat"} {
		mux.Handle("POST /api/jobs/{id}/"+a, s.sameOrigin(s.actionHandler(a)))
	}
	return s.authorize(securityHeaders(mux))
}

// authorize refuses with 401 every request without the token (when one is set). The page
// (GET /) may carry it as ?token= instead of the header, for the first visit; refused, it
// gets a small page that retries with the token the tab keeps (a reload).
//
// Without a token the dashboard listens on loopback only, and it answers only requests whose
// Host is an IP address or localhost: a web site that points its own name at 127.0.0.1 (DNS
// rebinding) would otherwise be "same-origin" with it.
func (s *Server) authorize(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !literalHost(r.Host) {
				writeError(w, http.StatusMisdirectedRequest, "address the dashboard by IP address or localhost, not "+r.Host)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		ok := subtle.ConstantTimeCompare(got, want) == 1
		isPage := r.Method == http.MethodGet && r.URL.Path == "/"
		if !ok && isPage {
			q := []byte("Bearer " + r.URL.Query().Get("token"))
			ok = subtle.ConstantTimeCompare(q, want) == 1
		}
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="pipectl"`)
		if isPage {
			writeUnauthorizedPage(w)
			return
		}
		writeError(w, http.StatusUnauthorized, "this dashboard needs its token: open it as /?token=<token> or send Authorization: Bearer <token>")
	})
}

// literalHost reports whether a Host header names an IP address or localhost.
func literalHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

// securityHeaders keeps the page from being framed or sniffed and from loading anything
// but itself.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// sameOrigin guards an action against cross-site requests: the body must be JSON (a
// cross-site page cannot send that without a CORS preflight, which this server never
// grants), and when the browser says where the request comes from (Sec-Fetch-Site, Origin)
// it must be this page.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "actions take a JSON body (Content-Type: application/json)")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				writeError(w, http.StatusForbidden, "cross-origin request refused")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v as the JSON response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
}

// writeError writes an error response with one sentence for the user.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// errorCode is the HTTP status of a failed job look-up or control call.
func errorCode(err error) int {
	switch {
	case errors.Is(err, jobs.ErrUnknownJob):
		return http.StatusNotFound
	case errors.Is(err, jobs.ErrNotRunning), errors.Is(err, jobs.ErrJobExited):
		return http.StatusConflict
	}
	var re *jobs.RemoteError
	if errors.As(err, &re) {
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
