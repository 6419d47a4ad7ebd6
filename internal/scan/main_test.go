package scan_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a scan, module or farm leaves a goroutine
// behind: every one must have a stop path.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
