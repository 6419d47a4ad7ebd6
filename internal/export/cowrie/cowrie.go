// Package cowrie converts kansoku events to Cowrie's JSON log records
// (eventid names and fields as Cowrie 2.x writes them), so existing Cowrie
// dashboards, parsers and feeds read kansoku's Telnet/SSH observations
// unchanged.
package cowrie

import (
	"fmt"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// TimeFormat is Cowrie's timestamp layout (UTC, microseconds).
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// DownloadDir is the prefix of Cowrie's outfile paths; parsers take the
// SHA-256 from the file name.
const DownloadDir = "var/lib/cowrie/downloads/"

// Convert maps one event to one Cowrie record; ok is false for events
// Cowrie has no record for. A command.dropper event becomes one
// cowrie.command.input whose input holds every line; ConvertAll gives
// one record per line as Cowrie itself logs them.
func Convert(e *event.Event) (map[string]any, bool) {
	if e == nil || (e.Honeypot != "telnet" && e.Honeypot != "ssh") {
		return nil, false
	}
	r := base(e)
	id, msg := "", ""
	switch e.Kind {
	case "session.connect":
		id = "cowrie.session.connect"
		r["protocol"] = e.Honeypot
		msg = fmt.Sprintf("New connection: %s:%d (%s:%d) [session: %s]", addr(e.SrcIP.String()), e.SrcPort, addr(e.DstIP.String()), e.DstPort, e.Session)
	case "session.closed":
		id = "cowrie.session.closed"
		d := num(e.Data["duration"])
		r["duration"] = d
		msg = fmt.Sprintf("Connection lost after %d seconds", int64(d))
	case "login.failed", "login.success":
		if e.Str("method") == "publickey" {
			id = "cowrie.client.fingerprint"
			// Cowrie's fingerprint is the MD5 one.
			u, fp, typ := e.Text("username"), e.Str("fingerprint_md5"), e.Str("key_type")
			r["username"], r["fingerprint"], r["type"], r["key"] = u, fp, typ, e.Str("key")
			msg = fmt.Sprintf("public key attempt for user %s of type %s with fingerprint %s", u, typ, fp)
			break
		}
		id = "cowrie." + e.Kind
		u, p := e.Text("username"), e.Text("password")
		r["username"], r["password"] = u, p
		res := "succeeded"
		if e.Kind == "login.failed" {
			res = "failed"
		}
		msg = fmt.Sprintf("login attempt [%s/%s] %s", u, p, res)
	case "command.input":
		id = "cowrie.command.input"
		in := e.Text("input")
		r["input"] = in
		msg = "CMD: " + in
	case "command.dropper":
		id = "cowrie.command.input"
		in := e.Text("transcript")
		r["input"] = in
		msg = "CMD: " + in
	case "download.ok":
		id = "cowrie.session.file_download"
		sha := e.Str("sha256")
		url := e.Text("url")
		r["url"], r["shasum"], r["outfile"] = url, sha, DownloadDir+sha
		r["destfile"] = e.Text("path")
		r["duplicate"] = false
		msg = fmt.Sprintf("Downloaded URL (%s) with SHA-256 %s to %s", url, sha, DownloadDir+sha)
	case "download.failed":
		id = "cowrie.session.file_download.failed"
		url := e.Text("url")
		r["url"] = url
		msg = fmt.Sprintf("Attempt to download file(s) from URL (%s) failed", url)
	case "sample.captured":
		// Downloads are reported by download.ok; what remains are files
		// the session wrote itself (echo/printf droppers), which Cowrie
		// logs as saved redirections.
		if e.Str("trigger") == "download" || (e.Text("url") != "" && e.Text("path") == "") {
			return nil, false
		}
		id = "cowrie.session.file_download"
		sha := e.Str("sha256")
		p := e.Text("path")
		r["url"], r["destfile"], r["shasum"], r["outfile"], r["duplicate"] = p, p, sha, DownloadDir+sha, false
		msg = fmt.Sprintf("Saved redir contents with SHA-256 %s to %s", sha, DownloadDir+sha)
	case "ssh.client_version":
		id = "cowrie.client.version"
		v := e.Text("version")
		r["version"] = v
		msg = "Remote SSH version: " + v
	case "ssh.hassh":
		id = "cowrie.client.kex"
		h := e.Str("hassh")
		r["hassh"] = h
		r["hasshAlgorithms"] = e.Text("hassh_algorithms")
		r["kexAlgs"] = list(e.Data["kex"])
		r["keyAlgs"] = list(e.Data["host_key"])
		r["encCS"] = list(e.Data["enc_c2s"])
		r["macCS"] = list(e.Data["mac_c2s"])
		r["compCS"] = list(e.Data["comp_c2s"])
		r["langCS"] = list(e.Data["lang_c2s"])
		msg = "SSH client hassh fingerprint: " + h
	case "session.params":
		w, h := e.Int("width"), e.Int("height")
		if w == 0 && h == 0 {
			return nil, false
		}
		id = "cowrie.client.size"
		r["width"], r["height"] = w, h
		msg = fmt.Sprintf("Terminal Size: %d %d", w, h)
	case "ssh.env":
		id = "cowrie.client.var"
		n, v := e.Text("name"), e.Text("value")
		r["name"], r["value"] = n, v
		msg = fmt.Sprintf("request_env: %s=%s", n, v)
	case "ssh.forward.request":
		if e.Str("type") != "direct-tcpip" {
			return nil, false // Cowrie logs tcpip-forward only as text
		}
		id = "cowrie.direct-tcpip.request"
		host, port := e.Text("dst_host"), e.Int("dst_port")
		r["dst_ip"], r["dst_port"] = host, port
		msg = fmt.Sprintf("direct-tcp connection request to %s:%d from %s:%d", host, port, e.Text("orig_host"), e.Int("orig_port"))
	case "session.recording":
		id = "cowrie.log.closed"
		tty := "var/lib/cowrie/tty/" + e.Session
		d := num(e.Data["duration"])
		r["ttylog"], r["size"], r["duration"], r["duplicate"] = tty, e.Int("size"), d, false
		msg = fmt.Sprintf("Closing TTY Log: %s after %d seconds", tty, int64(d))
	default:
		return nil, false
	}
	r["eventid"] = id
	r["message"] = msg
	return r, true
}

// ConvertAll is Convert, except that a command.dropper event becomes one
// cowrie.command.input record per transcript line.
func ConvertAll(e *event.Event) []map[string]any {
	if e != nil && e.Kind == "command.dropper" && (e.Honeypot == "telnet" || e.Honeypot == "ssh") {
		var out []map[string]any
		for _, line := range strings.Split(e.Text("transcript"), "\n") {
			if line == "" {
				continue
			}
			r := base(e)
			r["eventid"], r["input"], r["message"] = "cowrie.command.input", line, "CMD: "+line
			out = append(out, r)
		}
		return out
	}
	if r, ok := Convert(e); ok {
		return []map[string]any{r}
	}
	return nil
}

func base(e *event.Event) map[string]any {
	r := map[string]any{
		"timestamp": e.Time.UTC().Format(TimeFormat),
		"session":   e.Session,
		"sensor":    e.Sensor,
		"src_ip":    addr(e.SrcIP.String()),
	}
	if e.SrcPort != 0 {
		r["src_port"] = e.SrcPort
	}
	if e.DstIP.IsValid() {
		r["dst_ip"] = e.DstIP.String()
	}
	if e.DstPort != 0 {
		r["dst_port"] = e.DstPort
	}
	return r
}

func addr(s string) string {
	if s == "invalid IP" {
		return ""
	}
	return s
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case float32:
		return float64(n)
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case time.Duration:
		return n.Seconds()
	}
	return 0
}

// list returns a comma-separated or []string field as []string.
func list(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		if l == "" {
			return []string{}
		}
		return strings.Split(l, ",")
	}
	return []string{}
}
