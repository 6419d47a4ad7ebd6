package alert

import (
	"slices"
	"testing"
)

// TestManagedSubscriptionsKeepConfigOnes: the portal's stored subscriptions
// are added to the config file's, override one of the same id, and a new
// set replaces the previous managed set without losing the config's.
func TestManagedSubscriptionsKeepConfigOnes(t *testing.T) {
	file := webhookSub("http://127.0.0.1:9/file")
	d, err := NewDispatcher(testConfig(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	other := webhookSub("http://127.0.0.1:9/other")
	other.ID = "sub-2"
	override := webhookSub("http://127.0.0.1:9/override")
	bad := webhookSub("ftp://127.0.0.1/x")
	bad.ID = "bad"
	tests := []struct {
		name string
		set  []Subscription
		want []string // id=url
	}{
		{"none stored", nil, []string{"sub-1=http://127.0.0.1:9/file"}},
		{"added", []Subscription{other}, []string{"sub-1=http://127.0.0.1:9/file", "sub-2=http://127.0.0.1:9/other"}},
		{"override by id", []Subscription{override, bad}, []string{"sub-1=http://127.0.0.1:9/override"}},
		{"override removed", []Subscription{}, []string{"sub-1=http://127.0.0.1:9/file"}},
	}
	for _, tc := range tests {
		d.SetSubscriptions(tc.set)
		var got []string
		for _, s := range d.Subscriptions() {
			got = append(got, s.ID+"="+s.Webhook.URL)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecodeStored(t *testing.T) {
	// The body the portal's admin page stores (internal/web).
	body := []byte(`{"subscription":{"id":"isp-1","name":"ISP","prefixes":["192.0.2.0/24"],"kinds":["infected-host"],` +
		`"webhook":{"url":"http://127.0.0.1:9/h"},"verified":true},"secret":"0123456789abcdef-secret"}`)
	subs, err := DecodeStored([][]byte{body})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].ID != "isp-1" || subs[0].Webhook.Secret != "0123456789abcdef-secret" || !subs[0].Verified || subs[0].Validate() != nil {
		t.Fatalf("decoded %+v", subs)
	}
	if _, err := DecodeStored([][]byte{[]byte("{")}); err == nil {
		t.Fatal("a broken body decoded")
	}
}
