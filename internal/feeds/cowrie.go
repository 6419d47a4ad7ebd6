package feeds

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/kansoku/kansoku/internal/event"
)

// cowrieIDs maps kansoku event kinds to Cowrie's eventid values.
var cowrieIDs = map[string]string{
	"session.connect":    "cowrie.session.connect",
	"session.closed":     "cowrie.session.closed",
	"login.success":      "cowrie.login.success",
	"login.failed":       "cowrie.login.failed",
	"command.input":      "cowrie.command.input",
	"download.ok":        "cowrie.session.file_download",
	"download.failed":    "cowrie.session.file_download.failed",
	"ssh.client_version": "cowrie.client.version",
}

// CowrieRecord converts one honeypot event into a Cowrie JSON log object,
// or nil for kinds Cowrie has no record for.
func CowrieRecord(e *event.Event) map[string]any {
	id, ok := cowrieIDs[e.Kind]
	if !ok {
		return nil
	}
	m := map[string]any{"eventid": id, "timestamp": e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), "session": e.Session,
		"src_ip": addrString(e.SrcIP.String(), e.SrcIP.IsValid()), "src_port": int(e.SrcPort), "dst_ip": addrString(e.DstIP.String(), e.DstIP.IsValid()),
		"dst_port": int(e.DstPort), "sensor": e.Sensor, "protocol": e.Honeypot}
	switch e.Kind {
	case "login.success", "login.failed":
		m["username"], m["password"] = e.Text("username"), e.Text("password")
		m["message"] = "login attempt [" + e.Text("username") + "/" + e.Text("password") + "] " + map[bool]string{true: "succeeded", false: "failed"}[e.Kind == "login.success"]
	case "command.input":
		m["input"] = e.Text("input")
		m["message"] = "CMD: " + e.Text("input")
	case "download.ok", "download.failed":
		m["url"], m["shasum"] = e.Text("url"), e.Str("sha256")
		if sha := e.Str("sha256"); sha != "" {
			m["outfile"] = "var/lib/cowrie/downloads/" + sha
		}
	case "session.closed":
		d, _ := e.Data["duration"].(float64)
		m["duration"] = strconv.FormatFloat(d, 'f', 1, 64)
	case "ssh.client_version":
		m["version"] = e.Text("version")
	}
	return m
}

func addrString(s string, ok bool) string {
	if !ok {
		return ""
	}
	return s
}

// WriteCowrie writes events as a Cowrie JSON log (one object per line),
// skipping kinds Cowrie does not log.
func WriteCowrie(w io.Writer, evs []*event.Event) (int, error) {
	enc := json.NewEncoder(w)
	n := 0
	for _, e := range evs {
		if r := CowrieRecord(e); r != nil {
			if err := enc.Encode(r); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
