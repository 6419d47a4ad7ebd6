// Command kansoku is the one binary of the kansoku platform; all logic lives
// in internal/… and the subcommands register themselves in internal/cli.
package main

import (
	"os"

	"github.com/kansoku/kansoku/internal/cli"
	"github.com/kansoku/kansoku/internal/sandbox"
)

func main() {
	// The sandbox re-executes this binary for the parts that run inside its
	// namespaces; that must happen before anything else.
	sandbox.MaybeRunHelper()
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
