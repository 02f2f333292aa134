// Command windsock runs Windsock: an Airflow-compatible workflow
// orchestrator in one binary.
package main

import (
	"context"
	"os"

	"github.com/windsock/windsock/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(),
	}))
}
