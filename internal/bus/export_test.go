package bus

import dto "github.com/prometheus/client_model/go"

// Recreations is how often a consumer was recreated, for all reasons.
func Recreations(consumer string) float64 {
	var n float64
	for _, r := range []string{"vanished", "stalled", "heartbeat", "closed", "error"} {
		var m dto.Metric
		if err := mRecreated.WithLabelValues(consumer, r).Write(&m); err == nil {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}
