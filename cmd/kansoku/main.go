// Command kansoku is the one binary of the kansoku platform; all logic lives
// in internal/… and the subcommands register themselves in internal/cli.
package main

import (
	"os"

	"github.com/kansoku/kansoku/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
