package app

import (
	"os"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/benchdir"
)

func TestMain(m *testing.M) { os.Exit(benchdir.Main(m)) }

// resetOperators makes the environment build its operator registry again,
// for a test that changed the config the operators are built from.
func resetOperators(env *Environment) {
	env.registryOnce = sync.Once{}
	env.registry = nil
}
