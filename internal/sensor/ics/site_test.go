package ics

import (
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func TestBuiltInSites(t *testing.T) {
	if got := strings.Join(Sites(), ","); got != "gate,river,solar" {
		t.Fatalf("sites %s", got)
	}
	for _, id := range Sites() {
		if _, err := LoadSite(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestBadSites(t *testing.T) {
	good := func(extra string) string {
		return `id: x
facility: X
identity: {vendor: V, product_code: P, revision: "1"}
process:
  - {name: lvl, model: river, base: 1}
modbus:
  mode: device
  units:
    - id: 1
      input: [{addr: 0, source: lvl}]
` + extra
	}
	if _, err := ParseSite([]byte(good(""))); err != nil {
		t.Fatalf("the good site fails: %v", err)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", good("colour: red\n"), "colour"},
		{"no identity", "id: x\nfacility: X\nmodbus: {mode: device, units: [{id: 1}]}\n", "required"},
		{"bad mode", strings.Replace(good(""), "mode: device", "mode: bridge", 1), "modbus.mode"},
		{"unknown source", strings.Replace(good(""), "source: lvl", "source: flow", 1), "unknown source"},
		{"overlap", strings.Replace(good(""), "input: [{addr: 0, source: lvl}]", "input: [{addr: 0, source: lvl, type: float32}, {addr: 1, value: 3}]", 1), "overlaps"},
		{"unit id", strings.Replace(good(""), "id: 1\n", "id: 300\n", 1), "1..247"},
		{"model", strings.Replace(good(""), "model: river", "model: volcano", 1), "unknown model"},
		{"long ascii", strings.Replace(good(""), "facility: X", "facility: "+strings.Repeat("A", 33), 1), "facility_ascii"},
		{"writable 32-bit", strings.Replace(good(""), "source: lvl}", "source: lvl, type: uint32, writable: true}", 1), "read-only"},
	} {
		_, err := ParseSite([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	env := sensor.Env{Services: map[string]any{}}
	for _, tc := range []struct {
		new func(sensor.Env, sensor.Decode) (sensor.Sensor, error)
		cfg string
	}{
		{NewModbus, "site: volcano\n"},
		{NewModbus, "gateway_timeout: -1s\n"},
		{NewModbus, "nonsense: 1\n"},
		{NewS7, "site: /nonexistent/site.yaml\n"},
		{NewBACnet, "reply_burst: 0\n"},
		{NewBACnet, "reply_rate: -1\n"},
	} {
		if _, err := tc.new(env, sensortest.DecodeYAML(tc.cfg)); err == nil {
			t.Errorf("config %q accepted", tc.cfg)
		}
	}
}
