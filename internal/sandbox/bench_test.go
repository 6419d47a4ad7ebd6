package sandbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkThroughput measures analyses per hour of a sample that runs for
// 10 s (the bot's "sleep" mode, under qemu-arm), with 2 and 4 analyses at
// once. Run with -benchtime=Nx where N is a multiple of the concurrency.
func BenchmarkThroughput(b *testing.B) {
	needSandbox(b)
	s := buildSample(b, "arm", "sleep")
	for _, conc := range []int{2, 4} {
		b.Run(fmt.Sprintf("concurrent=%d", conc), func(b *testing.B) {
			jobs := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed error
			start := time.Now()
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range jobs {
						r, err := Run(context.Background(), s, Device{}, Options{Timeout: 30 * time.Second})
						if err == nil && (!r.Exit.Finished || r.Limits.Timeout) {
							err = fmt.Errorf("sample did not finish: %+v", r.Exit)
						}
						if err != nil {
							mu.Lock()
							failed = err
							mu.Unlock()
						}
					}
				}()
			}
			for range b.N {
				jobs <- struct{}{}
			}
			close(jobs)
			wg.Wait()
			if failed != nil {
				b.Fatal(failed)
			}
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Hours(), "analyses/h")
			b.ReportMetric(el.Seconds()/float64(b.N), "s/analysis")
		})
	}
}
