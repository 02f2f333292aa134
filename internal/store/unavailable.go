package store

import (
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// ErrUnavailable is wrapped around a driver error that means the metadata
// database cannot do its work right now, rather than that the request was
// wrong: the disk or the database is full, the file or the server is
// read-only, an I/O error, a lost or refused connection. The API answers
// it 503 (try again later), not 500, and /health reports the database
// unhealthy while writes fail with it. It carries the application code
// EUNAVAILABLE and a Retry-After long enough not to hammer the database,
// short enough that a mended disk is noticed soon.
var ErrUnavailable error = windsock.RetryLater(windsock.EUNAVAILABLE, 10*time.Second,
	"The metadata database cannot serve the request now (full, read-only or unreachable); try again later")
