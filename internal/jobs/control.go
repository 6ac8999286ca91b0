package jobs

import (
	"context"
	"encoding/json"
)

// Control operations a job serves on its control socket.
const (
	OpStatus    = "status"    // Data: the job's status, as the runtime defines it
	OpSavepoint = "savepoint" // Path: the savepoint written into Request.Dir
	OpStop      = "stop"      // stop-with-savepoint into Request.Dir (Drain: advance the watermark to the end first); Path: the savepoint
	OpCancel    = "cancel"    // stop at once, no savepoint
	OpSchema    = "schema"    // Data: the job's state schemas, for check-compat --job
)

// Request is what a caller asks a job. It travels as one JSON line.
type Request struct {
	Op    string `json:"op"`
	Dir   string `json:"dir,omitempty"`   // savepoint directory (savepoint, stop); empty: the job's default
	Drain bool   `json:"drain,omitempty"` // stop --drain
	// Incremental (stop, without Drain): take a savepoint while the job runs first, so that
	// the stop writes only what changed since (a pit stop's short downtime).
	Incremental bool `json:"incremental,omitempty"`
}

// Response is a job's answer to a Request. It travels as one JSON line.
type Response struct {
	OK    bool            `json:"ok"`
	Error string          `json:"error,omitempty"` // one sentence for the user when !OK
	Path  string          `json:"path,omitempty"`  // a savepoint path
	Data  json.RawMessage `json:"data,omitempty"`  // op-specific payload
}

// ErrorResponse is the Response reporting err.
func ErrorResponse(err error) Response {
	return Response{Error: err.Error()}
}

// Handler answers control requests. Handle may be called concurrently, once
// per connection; ctx is cancelled when the Server closes.
type Handler interface {
	Handle(ctx context.Context, req Request) Response
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, req Request) Response

// Handle calls f(ctx, req).
func (f HandlerFunc) Handle(ctx context.Context, req Request) Response { return f(ctx, req) }

// RemoteError is the error Call returns when the job answered !OK.
type RemoteError struct {
	Op  string // the request's Op
	Msg string // Response.Error
}

// Error returns the job's own message.
func (e *RemoteError) Error() string { return e.Msg }
