// Command windsock runs Windsock: an Airflow-compatible workflow
// orchestrator in one binary.
package main

import (
	"context"
	"os"
	// Embed the time zone database so DAG time zones work on hosts without
	// /usr/share/zoneinfo, as a single static binary should.
	_ "time/tzdata"

	"github.com/windsock/windsock/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{
		Program: os.Args[0],
		Stdin:   os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(),
	}))
}
