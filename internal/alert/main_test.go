package alert

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Run goroutine, worker and test server must be gone after the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
