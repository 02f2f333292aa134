package pyenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/windsock/windsock/internal/atomicfile"
)

// lockDir takes an exclusive lock on dir (created if needed), waiting for
// other processes of the home that hold it, or until ctx ends.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	// The environment's folder is made readable to all, as before it held
	// a lock; the lock file itself is atomicfile's (0600).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("python environment: %w", err)
	}
	return atomicfile.LockContext(ctx, filepath.Join(dir, ".lock"))
}
