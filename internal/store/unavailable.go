package store

import "errors"

// ErrUnavailable is wrapped around a driver error that means the metadata
// database cannot do its work right now, rather than that the request was
// wrong: the disk or the database is full, the file or the server is
// read-only, an I/O error, a lost or refused connection. The API answers
// it 503 (try again later), not 500, and /health reports the database
// unhealthy while writes fail with it.
var ErrUnavailable = errors.New("the metadata database is unavailable")
