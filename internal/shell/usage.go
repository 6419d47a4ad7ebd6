package shell

import (
	"embed"
	"strings"
)

// Usage texts of BusyBox 1.35 applets, printed after the banner when an
// applet is called with missing operands.
//
//go:embed usage/*.txt
var usageFS embed.FS

func usageText(name string) string {
	b, err := usageFS.ReadFile("usage/" + name + ".txt")
	if err != nil {
		return "Usage: " + name + " [OPTIONS]\n"
	}
	return strings.TrimRight(string(b), "\n") + "\n"
}
