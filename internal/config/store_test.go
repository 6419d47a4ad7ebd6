package config_test

import (
	"testing"

	"github.com/kansoku/kansoku/internal/config"
)

// TestStoreDrivers: both drivers are accepted, postgres with its dsn.
func TestStoreDrivers(t *testing.T) {
	for _, tc := range []struct{ yaml, driver, dsn string }{
		{"store:\n  driver: sqlite\n", "sqlite", ""},
		{"store:\n  driver: postgres\n  dsn: postgres://kansoku@127.0.0.1:5432/kansoku\n", "postgres", "postgres://kansoku@127.0.0.1:5432/kansoku"},
		{"store:\n  driver: postgres\n  dsn: host=/run/postgresql dbname=kansoku\n", "postgres", "host=/run/postgresql dbname=kansoku"},
	} {
		c, err := config.Parse([]byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if c.Store.Driver != tc.driver || c.Store.DSN != tc.dsn {
			t.Fatalf("%q: %+v", tc.yaml, c.Store)
		}
	}
}
