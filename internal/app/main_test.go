package app

import (
	"os"
	"testing"

	"github.com/windsock/windsock/internal/benchdir"
)

func TestMain(m *testing.M) { os.Exit(benchdir.Main(m)) }
