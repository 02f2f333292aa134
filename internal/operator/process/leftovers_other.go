//go:build !linux

package process

import "github.com/windsock/windsock/internal/windsock"

// KillLeftovers finds nothing where there is no /proc to search.
func KillLeftovers(envID string, ti *windsock.TaskInstance) (int, error) { return 0, nil }
