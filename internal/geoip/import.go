package geoip

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// ImportOptions control ImportASNCSV.
type ImportOptions struct {
	// IncludeReserved keeps private and loopback ranges (useful for labs and
	// tests); public data has nothing there.
	IncludeReserved bool
}

// ImportASNCSV converts ip_range_start,ip_range_end,asn,organization rows
// (the layout free ASN data is published in; a header row is skipped; rows
// with ASN 0, "not routed", are skipped) into a GeoLite2-ASN-shaped mmdb.
func ImportASNCSV(in io.Reader, out io.Writer, o ImportOptions) (rows int, err error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 28,
		IncludeReservedNetworks: o.IncludeReserved, Description: map[string]string{"en": "kansoku ASN database imported from CSV"}})
	if err != nil {
		return 0, fmt.Errorf("geoip: import: %w", err)
	}
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	line := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return rows, fmt.Errorf("geoip: import line %d: %w", line, err)
		}
		if len(rec) < 3 {
			return rows, fmt.Errorf("geoip: import line %d: want ip_range_start,ip_range_end,asn[,organization], got %d fields", line, len(rec))
		}
		start, err1 := netip.ParseAddr(strings.TrimSpace(rec[0]))
		end, err2 := netip.ParseAddr(strings.TrimSpace(rec[1]))
		if err1 != nil || err2 != nil {
			if line == 1 {
				continue // header
			}
			return rows, fmt.Errorf("geoip: import line %d: bad address range %q-%q", line, rec[0], rec[1])
		}
		asn, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(rec[2])), "AS"), 10, 32)
		if err != nil {
			return rows, fmt.Errorf("geoip: import line %d: bad asn %q", line, rec[2])
		}
		if asn == 0 || start.Is4() != end.Is4() || end.Less(start) {
			continue
		}
		org := ""
		if len(rec) > 3 {
			org = strings.TrimSpace(rec[3])
		}
		val := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn)}
		if org != "" {
			val["autonomous_system_organization"] = mmdbtype.String(org)
		}
		if err := tree.InsertRange(net.IP(start.AsSlice()), net.IP(end.AsSlice()), val); err != nil {
			var rn *mmdbwriter.ReservedNetworkError
			if errors.As(err, &rn) {
				continue
			}
			return rows, fmt.Errorf("geoip: import line %d: %w", line, err)
		}
		rows++
	}
	if _, err := tree.WriteTo(out); err != nil {
		return rows, fmt.Errorf("geoip: write mmdb: %w", err)
	}
	return rows, nil
}
