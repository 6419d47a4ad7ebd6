// Package storetest is the behaviour every store.Store implementation must
// have, as one suite each driver's tests run against a fresh store:
// exactly-once ingest by event id, the derived tables (sessions, samples,
// URLs, reports, C2s, hosts, merged attacks, daily and dashboard
// aggregates), cursors, and the portal's lookups and records. Tests that
// depend on one driver's internals (query plans, files on disk) stay with
// that driver.
package storetest

import (
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// Open returns a new, empty store for one test; the driver's helper closes
// it when the test ends (t.Cleanup).
type Open func(t *testing.T) store.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"InsertIsIdempotentAndDerives", testInsertIsIdempotentAndDerives},
		{"RedeliveryInsideOneBatch", testRedeliveryInsideOneBatch},
		{"SessionBoundsFromEventTimes", testSessionBoundsFromEventTimes},
		{"EventFiltersAndCursor", testEventFiltersAndCursor},
		{"ListCursors", testListCursors},
		{"ReportsFollowSamples", testReportsFollowSamples},
		{"IndicatorReview", testIndicatorReview},
		{"HostsFromScanResults", testHostsFromScanResults},
		{"HostsFiltersOrderAndPages", testHostsFiltersOrderAndPages},
		{"HostsByFindingAndTemplate", testHostsByFindingAndTemplate},
		{"AttacksMergeAcrossSensors", testAttacksMergeAcrossSensors},
		{"ExploitsByCVEAndDay", testExploitsByCVEAndDay},
		{"DashboardAggregatesAreIncremental", testDashboardAggregatesAreIncremental},
		{"PortalRecords", testPortalRecords},
		{"Lookups", testLookups},
		{"HostileText", testHostileText},
		{"ConcurrentRedelivery", testConcurrentRedelivery},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Event is a telnet event from src to 127.0.0.1:2323, as the sensors emit
// it; drivers' own tests and benchmarks use it too.
func Event(kind, session string, at time.Time, src string) *event.Event {
	e := event.New("telnet", kind)
	e.Time, e.Sensor, e.Session = at, "s1", session
	e.SrcIP, e.SrcPort = netip.MustParseAddr(src), 40000
	e.DstIP, e.DstPort = netip.MustParseAddr("127.0.0.1"), 2323
	return e
}
