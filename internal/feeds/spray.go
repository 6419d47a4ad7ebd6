package feeds

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/intel"
)

// SprayColumns are the columns of the password spraying report, one row
// per campaign (kansoku export --format report-spray).
var SprayColumns = []string{"campaign", "service", "first_seen_utc", "last_seen_utc", "passwords", "domains",
	"users", "attempts", "sources", "source_ips", "usernames"}

// WriteSprayCSV writes spraying campaigns; lists are joined with ';'.
func WriteSprayCSV(w io.Writer, cs []intel.Campaign) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SprayColumns); err != nil {
		return fmt.Errorf("feeds: write spray report: %w", err)
	}
	join := func(l []string) string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = sanitize(s)
		}
		return strings.Join(out, ";")
	}
	for _, c := range cs {
		ips := make([]string, len(c.Sources))
		for i, a := range c.Sources {
			ips[i] = a.String()
		}
		row := []string{c.ID, sanitize(c.Service), c.First.UTC().Format(time.DateTime), c.Last.UTC().Format(time.DateTime),
			sanitize(join(c.Passwords)), sanitize(join(c.Domains)), strconv.Itoa(c.UserCount), strconv.Itoa(c.Attempts),
			strconv.Itoa(c.SourceCount), strings.Join(ips, ";"), sanitize(join(c.Users))}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("feeds: write spray report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("feeds: write spray report: %w", err)
	}
	return nil
}
