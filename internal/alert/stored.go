package alert

import (
	"encoding/json"
	"fmt"
)

// Stored is a subscription as the portal's admin pages keep it in the store
// (store.PortalStore.PutSubscription): the subscription and, apart from it,
// the webhook secret, which Subscription never marshals. A collector in
// another process than the portal reads these to learn what the admins
// changed.
type Stored struct {
	Sub    Subscription `json:"subscription"`
	Secret string       `json:"secret,omitempty"`
}

// DecodeStored decodes the stored bodies (store.PortalStore.SubscriptionBodies)
// into subscriptions with their webhook secrets.
func DecodeStored(bodies [][]byte) ([]Subscription, error) {
	out := make([]Subscription, 0, len(bodies))
	for _, b := range bodies {
		var x Stored
		if err := json.Unmarshal(b, &x); err != nil {
			return nil, fmt.Errorf("alert: stored subscription: %w", err)
		}
		if x.Sub.Webhook != nil {
			x.Sub.Webhook.Secret = x.Secret
		}
		out = append(out, x.Sub)
	}
	return out, nil
}
