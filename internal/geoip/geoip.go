// Package geoip enriches source addresses with country and autonomous
// system from MaxMind-format (.mmdb) databases, and converts the CSV form
// in which free ASN data is published into such a database.
package geoip

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Info is what is known about an address.
type Info struct {
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	ASN     uint32 `json:"asn,omitempty"`
	ASOrg   string `json:"as_org,omitempty"`
}

// DB looks addresses up; a nil *DB or one without files finds nothing.
type DB struct {
	country *maxminddb.Reader
	asn     *maxminddb.Reader
}

// Open opens the databases that exist. A path that is empty or names a
// missing file means no enrichment of that kind, not an error: the
// platform works without GeoIP data.
func Open(countryPath, asnPath string) (*DB, error) {
	db := &DB{}
	var err error
	if db.country, err = openIfExists(countryPath); err != nil {
		return nil, err
	}
	if db.asn, err = openIfExists(asnPath); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openIfExists(path string) (*maxminddb.Reader, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", path, err)
	}
	return r, nil
}

// Enabled reports whether any database is loaded.
func (db *DB) Enabled() bool { return db != nil && (db.country != nil || db.asn != nil) }

type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// Lookup returns what the databases know of ip.
func (db *DB) Lookup(ip netip.Addr) Info {
	var info Info
	if db == nil || !ip.IsValid() {
		return info
	}
	ip = ip.Unmap()
	if db.country != nil {
		var r countryRecord
		if err := db.country.Lookup(ip).Decode(&r); err == nil {
			info.Country = r.Country.ISOCode
			if info.Country == "" {
				info.Country = r.RegisteredCountry.ISOCode
			}
		}
	}
	if db.asn != nil {
		var r asnRecord
		if err := db.asn.Lookup(ip).Decode(&r); err == nil {
			info.ASN, info.ASOrg = r.Number, r.Org
		}
	}
	return info
}

// Close releases the databases.
func (db *DB) Close() {
	if db == nil {
		return
	}
	if db.country != nil {
		db.country.Close()
	}
	if db.asn != nil {
		db.asn.Close()
	}
}
