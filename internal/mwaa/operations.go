package mwaa

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/windsock"
)

// Windsock's own operations, which MWAA does not have as API calls (MWAA
// users read logs in CloudWatch and move metadata with DAGs): served
// under /windsock/ with the same SigV4 authentication and IAM policies
// as the MWAA operations.

// LogReader is a Runner that reads its environments' log groups: without
// q.Follow one page (bounded as CloudWatch's FilterLogEvents bounds one),
// written to w in one Write, and the token that reads the next ("" at
// the end); with it, until ctx ends. A bad q.Token is an EINVALID error
// returned before anything is written.
type LogReader interface {
	Logs(ctx context.Context, name string, q envspec.LogQuery, w io.Writer) (next string, err error)
}

// NextTokenHeader carries the next token of a log read; the caller sends
// it back as the nextToken parameter to read on.
const NextTokenHeader = "X-Windsock-Next-Token"

// MetadataMover is a Runner that copies one environment's metadata into
// another.
type MetadataMover interface {
	MoveMetadata(ctx context.Context, src, dst string) (*metaport.Report, error)
}

// Actions of Windsock's own operations, for policies. Reading a log group
// is CloudWatch's action on the group's ARN, as on AWS; a metadata move
// reads the source's secrets and rewrites the destination's history, so
// each side has an action of its own.
const (
	actionReadLogs       = "logs:FilterLogEvents"
	actionExportMetadata = "airflow:ExportEnvironmentMetadata"
	actionImportMetadata = "airflow:ImportEnvironmentMetadata"
)

// windsockStreams are the streamed operations above, by pattern.
func (s *Service) windsockStreams() map[string]streamOperation {
	return map[string]streamOperation{"GET /windsock/environments/{Name}/logs": s.serveLogs}
}

// windsockRoutes are the other operations above, by pattern; they
// authorize on their own (a move checks both environments).
func (s *Service) windsockRoutes() map[string]operation {
	return map[string]operation{
		"POST /windsock/environments/{Name}/migrate": {do: func(ctx context.Context, r *http.Request, body []byte, c Caller) (any, error) {
			var in struct {
				Destination string `json:"Destination"`
			}
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			return s.Migrate(ctx, r.PathValue("Name"), in.Destination, c)
		}},
	}
}

// serveLogs answers one page of a log group: text lines ("stream
// message"), or one JSON event a line with format=json, and the token of
// the next page in NextTokenHeader (none at the end); nextToken reads on
// from a page. With follow=true it streams the group and new lines until
// the caller hangs up.
func (s *Service) serveLogs(w http.ResponseWriter, r *http.Request, c Caller) error {
	name, q := r.PathValue("Name"), r.URL.Query()
	component, ok := envspec.ComponentOf(name, q.Get("group"))
	if !ok {
		return validation("1 validation error detected: Value '" + q.Get("group") + "' at 'group' failed to satisfy constraint: Member must be one of scheduler, dag-processing, webserver, worker, task")
	}
	// Authorized before the lookup, so a caller without access cannot tell
	// which environments exist.
	if err := s.authorize(c, actionReadLogs, s.logGroupArn(name, component)); err != nil {
		return err
	}
	if _, err := s.Get(r.Context(), name); err != nil {
		return err
	}
	lr, ok := s.cfg.Runner.(LogReader)
	if !ok {
		return &Error{Code: "BadRequestException", Status: http.StatusBadRequest, Message: "This control plane's runner keeps no logs."}
	}
	query := envspec.LogQuery{Group: component, JSON: q.Get("format") == "json"}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return validation("1 validation error detected: Value '" + v + "' at 'since' failed to satisfy constraint: Member must be an RFC 3339 time")
		}
		query.Since = t
	}
	if v := q.Get("follow"); v != "" {
		f, err := strconv.ParseBool(v)
		if err != nil {
			return validation("1 validation error detected: Value '" + v + "' at 'follow' failed to satisfy constraint: Member must be true or false")
		}
		query.Follow = f
	}
	query.Token = q.Get("nextToken")
	ct := "text/plain; charset=utf-8"
	if query.JSON {
		ct = "application/x-ndjson"
	}
	if !query.Follow {
		// One page, bounded: held here whole so that its token can go
		// in a header before it.
		var page bytes.Buffer
		next, err := lr.Logs(r.Context(), name, query, &page)
		if err != nil {
			if windsock.ErrorCode(err) == windsock.EINVALID {
				return validation(windsock.ErrorMessage(err))
			}
			return err
		}
		w.Header().Set("Content-Type", ct)
		if next != "" {
			w.Header().Set(NextTokenHeader, next)
		}
		_, _ = w.Write(page.Bytes())
		return nil
	}
	fw := &flushWriter{w: w, contentType: ct}
	_, err := lr.Logs(r.Context(), name, query, fw)
	if !fw.started {
		// Nothing was sent: the error, or an empty follow cut short,
		// can still have its status.
		if err != nil && r.Context().Err() == nil {
			if windsock.ErrorCode(err) == windsock.EINVALID {
				return validation(windsock.ErrorMessage(err))
			}
			return err
		}
		fw.Flush()
		return nil
	}
	if err != nil && r.Context().Err() == nil {
		// The status is sent: all that is left is to log it.
		s.cfg.Logger.Error("mwaa: logs", "environment", name, "error", err)
	}
	return nil
}

// flushWriter sends every write at once, for followers; the status and
// headers go with the first write or flush, so that an error found
// before anything was written still has its own status.
type flushWriter struct {
	w           http.ResponseWriter
	contentType string
	started     bool
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.start()
	n, err := f.w.Write(p)
	f.Flush()
	return n, err
}

// Flush sends what was written (the status alone before any line: the
// caller knows the stream is open).
func (f *flushWriter) Flush() {
	f.start()
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
}

func (f *flushWriter) start() {
	if !f.started {
		f.started = true
		f.w.Header().Set("Content-Type", f.contentType)
		f.w.WriteHeader(http.StatusOK)
	}
}

// Migrate copies environment src's metadata into dst (`windsock env
// migrate`), reporting per table.
func (s *Service) Migrate(ctx context.Context, src, dst string, c Caller) (*metaport.Report, error) {
	if dst == "" {
		return nil, validation("1 validation error detected: Value null at 'destination' failed to satisfy constraint: Member must not be null")
	}
	if src == dst {
		return nil, validation("The source and destination environments must differ.")
	}
	for _, side := range []struct{ name, action string }{{src, actionExportMetadata}, {dst, actionImportMetadata}} {
		// Authorized before the lookup, as above.
		if err := s.authorize(c, side.action, s.envArn(side.name)); err != nil {
			return nil, err
		}
		env, err := s.Get(ctx, side.name)
		if err != nil {
			return nil, err
		}
		switch env.Status {
		case "AVAILABLE", "UPDATE_FAILED":
		default:
			return nil, &Error{Code: "ValidationException", Status: http.StatusBadRequest,
				Message: "Environment " + side.name + " is " + env.Status + "; its metadata can be moved once it is AVAILABLE."}
		}
	}
	m, ok := s.cfg.Runner.(MetadataMover)
	if !ok {
		return nil, &Error{Code: "BadRequestException", Status: http.StatusBadRequest, Message: "This control plane's runner cannot move metadata."}
	}
	// A move runs to its end once begun: a client that hangs up, or the
	// control plane's stop (its requests' base context), must not cut the
	// import short and leave the DAGs of both environments paused.
	rep, err := m.MoveMetadata(context.WithoutCancel(ctx), src, dst)
	if err != nil && windsock.ErrorCode(err) == windsock.EINVALID {
		return rep, validation(windsock.ErrorMessage(err))
	}
	return rep, err
}
