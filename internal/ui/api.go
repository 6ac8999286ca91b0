package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/runtime"
)

// JobSummary is a job in GET /api/jobs.
type JobSummary struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Status   jobs.Status `json:"status"`
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished,omitzero"`
	// UptimeS is how long the job has run, or ran, in seconds.
	UptimeS   float64 `json:"uptime_s"`
	Pipeline  string  `json:"pipeline"`
	Error     string  `json:"error,omitempty"`
	Savepoint string  `json:"savepoint,omitempty"` // of a job stopped with a savepoint
}

// SnapshotView is a checkpoint or savepoint of a job's history; Exists says whether its
// directory is still there (checkpoints are replaced by newer ones).
type SnapshotView struct {
	jobs.Snapshot
	Exists bool `json:"exists"`
}

// JobDetail is GET /api/jobs/{id}.
type JobDetail struct {
	JobSummary
	Graph      *Graph `json:"graph"`
	GraphError string `json:"graph_error,omitempty"`
	// Live is the running job's status from its control socket (null when it is not
	// running or did not answer; LiveError says why).
	Live      *runtime.Status `json:"live"`
	LiveError string          `json:"live_error,omitempty"`
	// LiveAtMs is when the job answered (Unix ms): the page's rates divide by its steps.
	LiveAtMs    int64          `json:"live_at_ms,omitempty"`
	Checkpoints []SnapshotView `json:"checkpoints"`
	Savepoints  []SnapshotView `json:"savepoints"`
}

// ActionResult is the answer to a successful savepoint, stop or cancel.
type ActionResult struct {
	OK   bool   `json:"ok"`
	Path string `json:"path,omitempty"` // the savepoint (savepoint, stop)
}

// CompatRequest is the body of POST /api/jobs/{id}/compat.
type CompatRequest struct {
	File   string `json:"file"`
	Format string `json:"format"` // text (default) or json
}

// CompatResult is the answer to a compat request.
type CompatResult struct {
	Compatible bool   `json:"compatible"`
	Format     string `json:"format"`
	Report     string `json:"report"`
}

// summary turns a job's info into its summary as of now.
func (s *Server) summary(info jobs.Info) JobSummary {
	end := s.cfg.Now()
	if info.Status.Final() && !info.Finished.IsZero() {
		end = info.Finished
	}
	return JobSummary{
		ID: info.ID, Name: info.Name, Status: info.Status, Started: info.Started,
		Finished: info.Finished, UptimeS: max(0, end.Sub(info.Started).Seconds()),
		Pipeline: info.Pipeline, Error: info.Error, Savepoint: info.Savepoint,
	}
}

func (s *Server) listJobs(w http.ResponseWriter, _ *http.Request) {
	infos, err := jobs.List(s.cfg.Home, true)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := make([]JobSummary, 0, len(infos))
	for i := len(infos) - 1; i >= 0; i-- { // newest first
		out = append(out, s.summary(infos[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// findJob returns a job's info whether it runs or not, and whether it runs.
func (s *Server) findJob(id string) (jobs.Info, bool, error) {
	info, err := jobs.Find(s.cfg.Home, id)
	if errors.Is(err, jobs.ErrNotRunning) {
		return info, false, nil
	}
	return info, err == nil, err
}

func (s *Server) jobDetail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	info, running, err := s.findJob(id)
	if err != nil {
		writeError(w, errorCode(err), err.Error())
		return
	}
	d := JobDetail{
		JobSummary:  s.summary(info),
		Checkpoints: views(info.Checkpoints),
		Savepoints:  views(info.Savepoints),
	}
	paths := jobs.PathsOf(s.cfg.Home, id)
	if data, err := os.ReadFile(paths.Pipeline); err != nil {
		d.GraphError = fmt.Sprintf("cannot read the job's pipeline copy: %v", err)
	} else if d.Graph, err = parseGraph(data); err != nil {
		d.GraphError = err.Error()
	}
	if running {
		d.Live, err = liveStatus(r.Context(), paths.Socket)
		if err != nil {
			d.LiveError = err.Error()
		} else {
			d.LiveAtMs = s.cfg.Now().UnixMilli()
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// liveStatus asks a running job for its status.
func liveStatus(ctx context.Context, socket string) (*runtime.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	resp, err := jobs.Call(ctx, socket, jobs.Request{Op: jobs.OpStatus})
	if err != nil {
		return nil, err
	}
	var st runtime.Status
	if err := json.Unmarshal(resp.Data, &st); err != nil {
		return nil, fmt.Errorf("the job answered an unreadable status: %w", err)
	}
	return &st, nil
}

// views marks which snapshots of a history still exist, newest first.
func views(list []jobs.Snapshot) []SnapshotView {
	out := make([]SnapshotView, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		_, err := os.Stat(list[i].Path)
		out = append(out, SnapshotView{Snapshot: list[i], Exists: !errors.Is(err, fs.ErrNotExist)})
	}
	return out
}

// actionHandler answers POST /api/jobs/{id}/<action>.
func (s *Server) actionHandler(action string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		id := r.PathValue("id")
		info, running, err := s.findJob(id)
		if err != nil {
			writeError(w, errorCode(err), err.Error())
			return
		}
		if action == "compat" {
			s.compat(w, r, id, body)
			return
		}
		if !running {
			writeError(w, http.StatusConflict, fmt.Sprintf("job %s (%s) is not running: it is %s", id, info.Name, info.Status))
			return
		}
		req, timeout := jobs.Request{Op: jobs.OpCancel}, actionTimeout
		switch action {
		case "savepoint":
			req, timeout = jobs.Request{Op: jobs.OpSavepoint}, savepointTimeout
		case "stop":
			req, timeout = jobs.Request{Op: jobs.OpStop}, savepointTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		resp, err := jobs.Call(ctx, jobs.PathsOf(s.cfg.Home, id).Socket, req)
		if err != nil && !(action == "cancel" && errors.Is(err, jobs.ErrJobExited)) {
			s.cfg.Log.Warn("dashboard action failed", "job", id, "action", action, "error", err.Error())
			writeError(w, errorCode(err), fmt.Sprintf("%s of job %s failed: %v", action, id, err))
			return
		}
		s.cfg.Log.Info("dashboard action", "job", id, "action", action, "path", resp.Path)
		writeJSON(w, http.StatusOK, ActionResult{OK: true, Path: resp.Path})
	})
}

// compat answers a compatibility check of a pipeline file against a job.
func (s *Server) compat(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	var req CompatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be {\"file\": PATH, \"format\": \"text\"|\"json\"}: "+err.Error())
		return
	}
	if req.Format == "" {
		req.Format = "text"
	}
	if req.Format != "text" && req.Format != "json" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format must be text or json, not %q", req.Format))
		return
	}
	if req.File == "" {
		writeError(w, http.StatusBadRequest, "name the pipeline file to check")
		return
	}
	report, ok, err := s.cfg.Compat(r.Context(), id, req.File, req.Format)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, CompatResult{Compatible: ok, Format: req.Format, Report: report})
}
