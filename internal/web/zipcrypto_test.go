package web

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEncryptedZipOpensWithDebianTools checks the archive with the real
// readers researchers use: Info-ZIP unzip and 7-Zip.
func TestEncryptedZipOpensWithDebianTools(t *testing.T) {
	data := bytes.Repeat([]byte("\x7fELF malware sample \x00\x01\x02"), 500)
	dir := t.TempDir()
	zpath := filepath.Join(dir, "s.zip")
	var buf bytes.Buffer
	if err := WriteEncryptedZip(&buf, "sample.bin", data, SamplePassword, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zpath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ran := 0
	if _, err := exec.LookPath("unzip"); err == nil {
		ran++
		out, err := exec.Command("unzip", "-p", "-P", SamplePassword, zpath, "sample.bin").Output()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("unzip -P infected: %v (got %d bytes)", err, len(out))
		}
		if out, err := exec.Command("unzip", "-p", "-P", "wrong", zpath).CombinedOutput(); err == nil && bytes.Equal(out, data) {
			t.Fatal("unzip accepted a wrong password")
		}
	}
	if _, err := exec.LookPath("7z"); err == nil {
		ran++
		out, err := exec.Command("7z", "x", "-so", "-p"+SamplePassword, zpath).Output()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("7z x -pinfected: %v (got %d bytes)", err, len(out))
		}
		out, _ = exec.Command("7z", "l", "-slt", zpath).Output()
		if !strings.Contains(string(out), "Encrypted = +") || !strings.Contains(string(out), "ZipCrypto") {
			t.Fatalf("7z does not see a ZipCrypto entry:\n%s", out)
		}
	}
	if ran == 0 {
		t.Skip("neither unzip nor 7z installed (scripts/deps/portal.apt lists them)")
	}
}
