package proto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

func init() {
	register(Protocol{Name: "mssql", Port: 1434, DefaultListen: "127.0.0.1:11434", New: newMSSQL})
}

// mssqlHandler is the SQL Server Browser service (MC-SQLR): an enumeration
// request is answered with every instance on the host.
type mssqlHandler struct {
	instances []string // one SVR_RESP entry each
	names     []string
}

func newMSSQL(id Identity, _ Options) (Handler, error) {
	host := strings.ToUpper(id.Hostname)
	if len(host) > 15 {
		host = host[:15]
	}
	r := id.Rand("mssql")
	h := &mssqlHandler{}
	insts := []struct{ name, ver string }{{"MSSQLSERVER", "15.0.2000.5"}, {"SQLEXPRESS", "14.0.1000.169"}, {"SHAREPOINT", "13.0.1601.5"}}
	for i, in := range insts[:2+r.IntN(2)] {
		port := 1433
		if i > 0 {
			port = 49152 + r.IntN(16000)
		}
		h.names = append(h.names, in.name)
		h.instances = append(h.instances, fmt.Sprintf("ServerName;%s;InstanceName;%s;IsClustered;No;Version;%s;tcp;%d;np;\\\\%s\\pipe\\%s;;",
			host, in.name, in.ver, port, host, pipeName(in.name)))
	}
	return h, nil
}

func pipeName(inst string) string {
	if inst == "MSSQLSERVER" {
		return `sql\query`
	}
	return `MSSQL$` + inst + `\sql\query`
}

func (h *mssqlHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) == 0 {
		return Reply{}, malformed("mssql", "empty")
	}
	var body string
	var content string
	switch req[0] {
	case 0x02, 0x03: // CLNT_BCAST_EX, CLNT_UCAST_EX
		if len(req) > 1 && !(len(req) == 2 && req[0] == 0x02) {
			return Reply{}, malformed("mssql", "enumeration request of %d bytes", len(req))
		}
		content = fmt.Sprintf("0x%02x enumerate", req[0])
		body = strings.Join(h.instances, "")
	case 0x04: // CLNT_UCAST_INST: instance name, NUL-terminated
		name, _, _ := bytes.Cut(req[1:], []byte{0})
		if len(name) == 0 || len(name) > 32 {
			return Reply{}, malformed("mssql", "instance name of %d bytes", len(name))
		}
		content = "0x04 instance " + string(name)
		for i, n := range h.names {
			if strings.EqualFold(n, string(name)) {
				body = h.instances[i]
			}
		}
		if body == "" {
			return Reply{Content: content}, fmt.Errorf("mssql: unknown instance: %w", ErrNoAnswer)
		}
	default:
		return Reply{}, malformed("mssql", "request type 0x%02x", req[0])
	}
	b := []byte{0x05, 0, 0}
	binary.LittleEndian.PutUint16(b[1:], uint16(len(body)))
	return Reply{Content: content, Packets: [][]byte{append(b, body...)}}, nil
}
