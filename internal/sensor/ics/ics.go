// Package ics is the infrastructure honeypot: it looks like the remote
// monitoring data logger or controller of a river station, a sluice gate
// or a solar plant, speaking Modbus/TCP (type modbus), S7comm (type s7) and
// BACnet/IP (type bacnet). What each shows comes from a site profile
// (sites/*.yaml): the product's identity, the facility's name and place,
// and a register map over a process whose values evolve plausibly with
// the time of day, the sun and pseudo-random rain.
//
// Every read is an ics.read event and every write an ics.write event
// (severity high, old and new values). A write changes what the writer's
// own session sees afterwards and nothing else: other sessions, protocols
// and the web UI keep showing the undisturbed process.
package ics

import (
	"fmt"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
)

// Honeypot is the events' honeypot field for every ICS protocol.
const Honeypot = "ics"

// Common is the config every ICS instance has.
type Common struct {
	// Site is a built-in site profile (river, gate, solar) or a path to a
	// site file.
	Site string `yaml:"site"`
	// Facility and Location replace the profile's, as each real
	// deployment customises them.
	Facility string `yaml:"facility"`
	Location string `yaml:"location"`
}

const commonExample = `  # Site profile: river (water-level station), gate (sluice gate controller),
  # solar (PV plant logger), or the path of a site file of your own.
  site: river
  # The facility's name and location as the device shows them (empty: the profile's).
  facility: ""
  location: ""
`

// DefaultSite is the profile instances use when config names none.
const DefaultSite = "river"

func (c *Common) site(env sensor.Env) (*Runtime, error) {
	if c.Site == "" {
		c.Site = DefaultSite
	}
	return SiteRuntime(env, c.Site, c.Facility, c.Location)
}

// Runtime is an instantiated site with its running process, shared by all
// instances of one run that name the same site.
type Runtime struct {
	Site *Site
	Proc *Process
}

// ServiceSites is the sensor.Env.Services key under which the instances of
// one run share their site runtimes.
const ServiceSites = "ics.sites"

var sitesMu sync.Mutex

// SiteRuntime returns the runtime of a site for env, making it on first
// use; instances with equal site, facility and location share one.
func SiteRuntime(env sensor.Env, id, facility, location string) (*Runtime, error) {
	s, err := LoadSite(id)
	if err != nil {
		return nil, err
	}
	key := id + "\x00" + facility + "\x00" + location
	sitesMu.Lock()
	defer sitesMu.Unlock()
	var shared map[string]*Runtime
	if env.Services != nil {
		shared, _ = env.Services[ServiceSites].(map[string]*Runtime)
		if shared == nil {
			shared = map[string]*Runtime{}
			env.Services[ServiceSites] = shared
		}
		if rt, ok := shared[key]; ok {
			return rt, nil
		}
	}
	inst := s.Instantiate(env.Seed, facility, location)
	rt := &Runtime{Site: inst, Proc: NewProcess(inst)}
	if shared != nil {
		shared[key] = rt
	}
	return rt, nil
}

func positive(name string, d time.Duration, zeroOK bool) error {
	if d < 0 || (!zeroOK && d == 0) {
		return fmt.Errorf("ics: %s must be positive, got %s", name, d)
	}
	return nil
}
