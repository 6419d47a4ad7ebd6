package app_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kansoku/kansoku/internal/sandbox"
	"github.com/kansoku/kansoku/internal/store/postgres/pgtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	// The sandbox re-executes this test binary for the parts that run inside
	// its namespaces.
	sandbox.MaybeRunHelper()
	code := m.Run()
	pgtest.StopShared()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
