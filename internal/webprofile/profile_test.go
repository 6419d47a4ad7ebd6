package webprofile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDefaults(t *testing.T) {
	ps, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 7 {
		t.Fatalf("%d profiles", len(ps))
	}
	for _, p := range ps {
		a, b := p.Instantiate([]byte("seed-a")), p.Instantiate([]byte("seed-a"))
		c := p.Instantiate([]byte("seed-b"))
		if !bytes.Equal(a.Header, b.Header) || !bytes.Equal(a.NotFound.Body, b.NotFound.Body) {
			t.Errorf("%s: same seed, different site", p.Name)
		}
		for k, v := range a.Identity {
			if strings.Contains(v, "{") {
				t.Errorf("%s: identity %s = %q not expanded", p.Name, k, v)
			}
		}
		_ = c
		for _, ans := range append([]*Answer{a.NotFound, a.BadRequest, a.TooLarge}, a.routes...) {
			for _, text := range [][]byte{ans.Body, ans.Header, a.Header} {
				low := bytes.ToLower(text)
				if bytes.Contains(low, []byte("kansoku")) || bytes.Contains(low, []byte("golang")) || bytes.Contains(low, []byte("go-http")) {
					t.Errorf("%s: answer names the honeypot: %q", p.Name, text)
				}
				if bytes.Contains(text, []byte("{model}")) || bytes.Contains(text, []byte("{fw}")) {
					t.Errorf("%s: unexpanded placeholder in %q", p.Name, text)
				}
			}
		}
	}
}

// TestIdentityDiffers: two installations of a profile with several values
// per identity field do not all look alike.
func TestIdentityDiffers(t *testing.T) {
	ps, _ := Defaults()
	p := ByName(ps, "router-dlink")
	seen := map[string]bool{}
	for i := range 20 {
		s := p.Instantiate([]byte{byte(i)})
		seen[s.Identity["model"]+s.Identity["fw"]+s.Identity["mac"]] = true
	}
	if len(seen) < 10 {
		t.Errorf("20 seeds gave %d identities", len(seen))
	}
}

func TestFind(t *testing.T) {
	ps, _ := Defaults()
	s := ByName(ps, "ont-gpon").Instantiate(nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/login.html", 200}, {"HEAD", "/login.html", 200}, {"POST", "/GponForm/diag_Form", 302},
		{"GET", "/GponForm/diag_Form", 404}, {"GET", "/nothing", 404}, {"GET", "/", 302},
	} {
		if a := s.Find(tc.method, tc.path, ""); a.Status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, a.Status, tc.status)
		}
	}
}

// TestRegister: another package adds a profile from its own FS.
func TestRegister(t *testing.T) {
	fsys := fstest.MapFS{
		"logger-web/profile.yaml": {Data: []byte("name: logger-web\ndevice: router-mipsel\nroutes:\n  - {path: /, file: index.html, type: text/html}\n")},
		"logger-web/index.html":   {Data: []byte("<title>Data logger</title>")},
	}
	Register(fsys)
	t.Cleanup(func() { regMu.Lock(); registered = registered[:len(registered)-1]; regMu.Unlock() })
	ps, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	p := ByName(ps, "logger-web")
	if p == nil {
		t.Fatal("registered profile missing")
	}
	if a := p.Instantiate(nil).Find("GET", "/", ""); string(a.Body) != "<title>Data logger</title>" {
		t.Errorf("body %q", a.Body)
	}
}

func TestBadProfiles(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"name: X\ndevice: d\n", "name:"},
		{"name: x\n", "device:"},
		{"name: x\ndevice: d\nheaders: [\"Content-Length: 3\"]\n", "headers[0]"},
		{"name: x\ndevice: d\nroutes: [{path: \"(\"}]\n", "routes[0].path"},
		{"name: x\ndevice: d\nroutes: [{path: /, file: ../etc/passwd}]\n", "routes[0].file"},
		{"name: x\ndevice: d\nroutes: [{path: /, auth: true}]\n", "routes[0].auth"},
		{"name: x\ndevice: d\nbogus: 1\n", "bogus"},
		{"name: x\ndevice: d\ntiming: {min: 2s, max: 1s}\n", "timing"},
	} {
		_, err := LoadFS(fstest.MapFS{"profile.yaml": {Data: []byte(tc.yaml)}}, "t")
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want ErrInvalid mentioning %q", tc.yaml, err, tc.want)
		}
	}
}
