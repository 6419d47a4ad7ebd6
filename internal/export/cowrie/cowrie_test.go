package cowrie

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sessionEvents is one SSH session as the sensors emit it.
func sessionEvents() []*event.Event {
	t0 := time.Date(2026, 11, 25, 22, 0, 0, 123456789, time.UTC)
	i := 0
	mk := func(kind string, data map[string]any) *event.Event {
		e := &event.Event{ID: "id", Time: t0.Add(time.Duration(i) * time.Second), Sensor: "tokyo-1", Honeypot: "ssh", Kind: kind, Session: "0193a1b2-c3d4",
			SrcIP: netip.MustParseAddr("203.0.113.5"), SrcPort: 51234, DstIP: netip.MustParseAddr("192.0.2.10"), DstPort: 2222, Transport: "tcp", Data: map[string]any{}}
		for k, v := range data {
			if s, ok := v.(string); ok {
				e.SetText(k, s)
			} else {
				e.Set(k, v)
			}
		}
		i++
		return e
	}
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	return []*event.Event{
		mk("session.connect", nil),
		mk("ssh.client_version", map[string]any{"version": "SSH-2.0-libssh_0.9.6"}),
		mk("ssh.hassh", map[string]any{"hassh": "51cba57125523ce4b9db67714a90bf6e", "hassh_algorithms": "curve25519-sha256;aes128-ctr;hmac-sha2-256;none",
			"kex": []string{"curve25519-sha256"}, "host_key": []string{"ssh-ed25519"}, "enc_c2s": []string{"aes128-ctr"}, "mac_c2s": []string{"hmac-sha2-256"}, "comp_c2s": []string{"none"}, "lang_c2s": []string{}}),
		mk("login.failed", map[string]any{"username": "root", "method": "publickey", "key_type": "ssh-ed25519", "fingerprint": "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
			"fingerprint_md5": "5b:1e:6b:ae:09:de:6b:2e:2e:52:ea:2b:95:ad:4a:5c", "key": "AAAAC3NzaC1lZDI1NTE5AAAAIA"}),
		mk("login.failed", map[string]any{"username": "root", "password": "123456"}),
		mk("login.success", map[string]any{"username": "root", "password": "\xffadmin"}),
		mk("session.params", map[string]any{"width": 80, "height": 24, "term": "xterm"}),
		mk("ssh.env", map[string]any{"name": "LANG", "value": "C"}),
		mk("command.input", map[string]any{"input": "uname -a"}),
		mk("command.dropper", map[string]any{"lines": 2, "transcript": "echo -ne '\\x7fELF' > .d\necho -ne '\\x01' >> .d\n"}),
		mk("download.ok", map[string]any{"url": "http://198.51.100.7/bins/x86", "sha256": sha, "path": "/tmp/x86", "tool": "wget"}),
		mk("download.failed", map[string]any{"url": "http://198.51.100.7/bins/mips", "error": "timeout", "tool": "wget"}),
		mk("sample.captured", map[string]any{"sha256": sha, "url": "http://198.51.100.7/bins/x86", "path": "/tmp/x86", "trigger": "download"}),
		mk("sample.captured", map[string]any{"sha256": sha, "path": "/tmp/.d", "trigger": "exec"}),
		mk("ssh.forward.request", map[string]any{"type": "direct-tcpip", "dst_host": "198.51.100.80", "dst_port": 80, "orig_host": "127.0.0.1", "orig_port": 5556}),
		mk("ssh.subsystem", map[string]any{"name": "sftp"}),
		mk("session.recording", map[string]any{"size": 1024, "duration": 4.2}),
		mk("session.closed", map[string]any{"duration": 4.5, "reason": "client"}),
	}
}

func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	for _, e := range sessionEvents() {
		for _, r := range ConvertAll(e) {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
	}
	golden := filepath.Join("testdata", "session.golden.jsonl")
	if *update {
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("output differs from %s:\n%s", golden, buf.Bytes())
	}
}

// TestFieldsMatchCowrie checks that every record carries at least the keys
// Cowrie's own record of the same eventid carries, with JSON types that
// match (string, number, bool, array).
func TestFieldsMatchCowrie(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "cowrie-reference.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := map[string]map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		ref[m["eventid"].(string)] = m
	}
	seen := map[string]bool{}
	for _, e := range sessionEvents() {
		for _, r := range ConvertAll(e) {
			b, _ := json.Marshal(r)
			var m map[string]any
			json.Unmarshal(b, &m)
			id := m["eventid"].(string)
			seen[id] = true
			want, ok := ref[id]
			if !ok {
				t.Errorf("%s: no reference record", id)
				continue
			}
			for k, v := range want {
				got, ok := m[k]
				if !ok {
					t.Errorf("%s: missing field %q", id, k)
					continue
				}
				if jsonType(got) != jsonType(v) {
					t.Errorf("%s: field %q is %s, Cowrie writes %s", id, k, jsonType(got), jsonType(v))
				}
			}
			ts, _ := m["timestamp"].(string)
			if _, err := time.Parse(TimeFormat, ts); err != nil || len(ts) != len("2024-03-01T10:00:00.123456Z") {
				t.Errorf("%s: timestamp %q not in Cowrie's format", id, ts)
			}
		}
	}
	var missing []string
	for id := range ref {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no event converts to %s", strings.Join(missing, ", "))
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return "object"
}

func TestSkipped(t *testing.T) {
	for _, e := range []*event.Event{
		nil,
		{Honeypot: "amp", Kind: "amp.attack.start"},
		{Honeypot: "telnet", Kind: "sensor.panic"},
		{Honeypot: "telnet", Kind: "session.params", Data: map[string]any{"ttype": "xterm"}},
	} {
		if r, ok := Convert(e); ok {
			t.Errorf("%+v converted to %v", e, r)
		}
	}
}

func TestBytesExact(t *testing.T) {
	e := event.New("telnet", "login.failed")
	e.SetText("username", "root\xff")
	e.SetText("password", "\x00\x01")
	r, ok := Convert(e)
	if !ok || r["username"] != "root\xff" || r["password"] != "\x00\x01" {
		t.Fatalf("%v", r)
	}
	b, err := json.Marshal(r)
	if err != nil || !json.Valid(b) {
		t.Fatalf("%s %v", b, err)
	}
}

func FuzzConvert(f *testing.F) {
	f.Add("telnet", "login.success", "root", "admin", 1.5)
	f.Add("ssh", "command.dropper", "echo\n\xff", "", 0.0)
	f.Add("ssh", "ssh.hassh", "a,b", "c", 2.0)
	f.Fuzz(func(t *testing.T, hp, kind, a, b string, d float64) {
		e := event.New(hp, kind)
		for _, k := range []string{"username", "input", "transcript", "url", "version", "kex", "path", "name", "dst_host"} {
			e.SetText(k, a)
		}
		for _, k := range []string{"password", "value", "sha256", "trigger", "type", "hassh"} {
			e.SetText(k, b)
		}
		e.Set("duration", d).Set("width", d)
		for _, r := range ConvertAll(e) {
			if _, ok := r["eventid"].(string); !ok {
				t.Fatalf("record without eventid: %v", r)
			}
			if _, err := json.Marshal(r); err != nil && !strings.Contains(err.Error(), "unsupported value") {
				t.Fatalf("marshal: %v", err)
			}
		}
	})
}
