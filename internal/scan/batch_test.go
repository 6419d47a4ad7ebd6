package scan_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/cluster"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

// TestClusterBatchesMerge: clustering in batches (a small cluster_buffer)
// yields the same templates with the same IDs and sizes as one batch.
func TestClusterBatchesMerge(t *testing.T) {
	farm, err := devicefarm.Start(context.Background(), devicefarm.Config{Base: netip.MustParsePrefix("127.32.0.0/16"), Count: 150, Seed: 4, NoUDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	sizes := func(buffer int) (map[string]int, int) {
		var cs []cluster.Cluster
		var results atomic.Int64 // sinks are called concurrently
		cfg := scan.Config{Targets: []string{"127.32.0.0/24"}, Ports: []string{"80"}, Modules: []string{"http"}, Rate: 5000, Seed: 9,
			ClusterBuffer: buffer, OnClusters: func(c []cluster.Cluster) { cs = c }}
		if _, err := scan.Run(context.Background(), cfg, scan.SinkFunc(func(_ context.Context, r *scan.HostResult) error {
			if r.Template == "" {
				t.Errorf("%s without template", r.IP)
			}
			results.Add(1)
			return nil
		}), nil); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, c := range cs {
			if len(c.Members) != c.Size {
				t.Errorf("cluster %s: %d members, size %d", c.ID, len(c.Members), c.Size)
			}
			out[c.ID] = c.Size
		}
		return out, int(results.Load())
	}
	whole, n1 := sizes(0)
	batched, n2 := sizes(40)
	if n1 != n2 || len(whole) == 0 || len(whole) != len(batched) {
		t.Fatalf("results %d vs %d, clusters %v vs %v", n1, n2, whole, batched)
	}
	for id, n := range whole {
		if batched[id] != n {
			t.Errorf("cluster %s: %d in one batch, %d in batches", id, n, batched[id])
		}
	}
}
