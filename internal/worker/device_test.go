package worker_test

import (
	"io/fs"
	"testing"

	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/worker"
)

// Every built-in profile must give the sandbox a /tmp it can write to and
// no dangling links (an absolute link would point at the host while the
// sandbox builds its root filesystem).
func TestDeviceOfProfiles(t *testing.T) {
	for _, p := range profile.Defaults() {
		dev := worker.DeviceOf(p, "")
		if dev.Arch != p.Arch || dev.Mounts == "" || dev.CPUInfo == "" {
			t.Errorf("%s: device %+v lacks profile data", p.Name, dev.Arch)
		}
		fi, err := fs.Stat(dev.RootFS, "tmp")
		if err != nil || !fi.IsDir() {
			t.Errorf("%s: /tmp is not a directory: %v", p.Name, err)
		}
		fs.WalkDir(dev.RootFS, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Errorf("%s: %s: %v", p.Name, path, err)
			}
			return nil
		})
	}
}
