package ics

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed sites/*.yaml
var siteFS embed.FS

// Site is one facility as data: the product it runs, its name and place,
// the process it measures and how each protocol shows it. Every protocol
// instance and the web UI of one site read the same Site, so the facility
// name, the identity and the live values agree wherever a scanner looks.
type Site struct {
	ID            string        `yaml:"id"`
	Summary       string        `yaml:"summary"`
	DeviceClass   string        `yaml:"device_class"`
	Identity      Identity      `yaml:"identity"`
	Facility      string        `yaml:"facility"`
	FacilityASCII string        `yaml:"facility_ascii"`
	Location      string        `yaml:"location"`
	Latitude      float64       `yaml:"latitude"`
	Longitude     float64       `yaml:"longitude"`
	UTCOffset     time.Duration `yaml:"utc_offset"`
	Process       []Var         `yaml:"process"`
	Modbus        ModbusMap     `yaml:"modbus"`
	S7            S7Identity    `yaml:"s7"`
	BACnet        BACnetID      `yaml:"bacnet"`
	Web           WebUI         `yaml:"web"`

	// Serial is derived per installation from its seed (Instantiate).
	Serial string `yaml:"-"`
	seed   uint64
}

// Identity is what the device says it is.
type Identity struct {
	Vendor       string `yaml:"vendor"`
	ProductCode  string `yaml:"product_code"`
	ProductName  string `yaml:"product_name"`
	Model        string `yaml:"model"`
	Revision     string `yaml:"revision"`
	VendorURL    string `yaml:"vendor_url"`
	SerialPrefix string `yaml:"serial_prefix"`
	WebServer    string `yaml:"web_server"`
}

// Var is one process variable: a model name and its parameters.
type Var struct {
	Name     string  `yaml:"name"`
	Model    string  `yaml:"model"`
	Of       string  `yaml:"of"`
	Base     float64 `yaml:"base"`
	Daily    float64 `yaml:"daily"`
	Gain     float64 `yaml:"gain"`
	On       float64 `yaml:"on"`
	Off      float64 `yaml:"off"`
	OpenAt   float64 `yaml:"open_at"`
	FullAt   float64 `yaml:"full_at"`
	Step     float64 `yaml:"step"`
	Factor   float64 `yaml:"factor"`
	Capacity float64 `yaml:"capacity"`
}

// ModbusMap is the Modbus/TCP face of a site.
type ModbusMap struct {
	// Mode is "gateway" (a TCP to serial gateway: unknown unit ids get
	// exception 0x0B, the serial bus did not answer) or "device" (the
	// device itself: unit ids 0 and 255 address it too; others close).
	Mode     string `yaml:"mode"`
	ServerID int    `yaml:"server_id"`
	Units    []Unit `yaml:"units"`
}

// Unit is one Modbus unit id and its four tables.
type Unit struct {
	ID       int     `yaml:"id"`
	Coils    []Point `yaml:"coils"`
	Discrete []Point `yaml:"discrete"`
	Input    []Point `yaml:"input"`
	Holding  []Point `yaml:"holding"`
}

// Point is one entry of a register table. A 32-bit type takes two
// registers (high word first).
type Point struct {
	Addr     int      `yaml:"addr"`
	Name     string   `yaml:"name"`
	Source   string   `yaml:"source"` // a process variable; else Value
	Value    float64  `yaml:"value"`
	Scale    float64  `yaml:"scale"` // register = round(value × scale); 0 means 1
	Type     string   `yaml:"type"`  // uint16 (default), int16, uint32, float32
	Writable bool     `yaml:"writable"`
	Max      *float64 `yaml:"max"`    // highest raw value a write may set (illegal data value above)
	Drives   string   `yaml:"drives"` // a write moves this variable in the writer's session
	Rate     float64  `yaml:"rate"`   // units/s of that movement; 0: at once
}

// S7Identity is what S7comm's SZL lists show.
type S7Identity struct {
	Module      string `yaml:"module"`
	OrderNumber string `yaml:"order_number"`
	Version     string `yaml:"version"`
	SystemName  string `yaml:"system_name"`
	ModuleType  string `yaml:"module_type"`
}

// BACnetID is the site's BACnet device object.
type BACnetID struct {
	DeviceInstance int    `yaml:"device_instance"`
	VendorID       int    `yaml:"vendor_id"`
	Description    string `yaml:"description"`
}

// WebUI customises the data logger's web pages.
type WebUI struct {
	Lang  string `yaml:"lang"`
	Title string `yaml:"title"`
}

// Sites lists the built-in site profiles by id.
func Sites() []string {
	ents, _ := siteFS.ReadDir("sites")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// LoadSite returns a built-in site by id, or reads a site file when id
// names one (contains a slash or ends in .yaml).
func LoadSite(id string) (*Site, error) {
	var b []byte
	var err error
	if strings.ContainsRune(id, '/') || strings.HasSuffix(id, ".yaml") {
		b, err = os.ReadFile(id)
	} else {
		if b, err = siteFS.ReadFile(path.Join("sites", id+".yaml")); err != nil {
			return nil, fmt.Errorf("ics: unknown site %q (built in: %s)", id, strings.Join(Sites(), ", "))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ics: read site %s: %w", id, err)
	}
	return ParseSite(b)
}

// ParseSite parses and validates a site profile.
func ParseSite(b []byte) (*Site, error) {
	var s Site
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && err != io.EOF {
		return nil, fmt.Errorf("ics: parse site: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("ics: site %q: %w", s.ID, err)
	}
	return &s, nil
}

var models = map[string]bool{"rain": true, "rain_total": true, "river": true, "tide": true, "battery": true, "temperature": true,
	"threshold": true, "gate": true, "follow": true, "irradiance": true, "solar_power": true, "solar_energy": true, "panel_temperature": true}

var needsOf = map[string]bool{"threshold": true, "gate": true, "follow": true, "solar_power": true, "solar_energy": true, "panel_temperature": true}

func (s *Site) validate() error {
	if s.ID == "" || s.Facility == "" || s.Identity.Vendor == "" || s.Identity.ProductCode == "" || s.Identity.Revision == "" {
		return errors.New("id, facility and identity (vendor, product_code, revision) are required")
	}
	if s.FacilityASCII == "" {
		s.FacilityASCII = asciiOr(s.Facility, "")
	}
	if len(s.FacilityASCII) > 32 || asciiOr(s.FacilityASCII, "") == "" {
		// S7's plant identification holds 32 characters of ASCII.
		return errors.New("facility_ascii: 1..32 printable ASCII characters (give it when the facility name is not ASCII)")
	}
	vars := map[string]bool{}
	for _, v := range s.Process {
		if v.Name == "" || vars[v.Name] {
			return fmt.Errorf("process: empty or repeated name %q", v.Name)
		}
		if !models[v.Model] {
			return fmt.Errorf("process %s: unknown model %q", v.Name, v.Model)
		}
		if needsOf[v.Model] && !vars[v.Of] {
			return fmt.Errorf("process %s: of %q must name an earlier variable", v.Name, v.Of)
		}
		vars[v.Name] = true
	}
	switch s.Modbus.Mode {
	case "gateway", "device":
	default:
		return fmt.Errorf("modbus.mode %q: want gateway or device", s.Modbus.Mode)
	}
	if len(s.Modbus.Units) == 0 {
		return errors.New("modbus.units: at least one unit")
	}
	units := map[int]bool{}
	for _, u := range s.Modbus.Units {
		if u.ID < 1 || u.ID > 247 || units[u.ID] {
			return fmt.Errorf("modbus unit %d: ids are 1..247 and distinct", u.ID)
		}
		units[u.ID] = true
		for _, t := range []struct {
			name string
			pts  []Point
			bits bool
		}{{"coils", u.Coils, true}, {"discrete", u.Discrete, true}, {"input", u.Input, false}, {"holding", u.Holding, false}} {
			used := map[int]string{}
			for _, p := range t.pts {
				if err := p.check(t.bits, vars); err != nil {
					return fmt.Errorf("modbus unit %d %s %d (%s): %w", u.ID, t.name, p.Addr, p.Name, err)
				}
				for i := range p.width() {
					if prev, dup := used[p.Addr+i]; dup {
						return fmt.Errorf("modbus unit %d %s %d: %s overlaps %s", u.ID, t.name, p.Addr+i, p.Name, prev)
					}
					used[p.Addr+i] = p.Name
				}
			}
		}
	}
	return nil
}

func (p Point) width() int {
	if p.Type == "uint32" || p.Type == "float32" {
		return 2
	}
	return 1
}

func (p Point) check(bits bool, vars map[string]bool) error {
	if p.Addr < 0 || p.Addr+p.width() > 0x10000 {
		return errors.New("address out of range")
	}
	if p.Source != "" && !vars[p.Source] {
		return fmt.Errorf("unknown source %q", p.Source)
	}
	if p.Drives != "" && (!vars[p.Drives] || !p.Writable) {
		return fmt.Errorf("drives %q: must be writable and name a variable", p.Drives)
	}
	switch p.Type {
	case "", "uint16", "int16":
	case "uint32", "float32":
		if bits {
			return errors.New("bit tables hold no 32-bit types")
		}
		if p.Writable {
			return errors.New("32-bit points are read-only")
		}
	default:
		return fmt.Errorf("unknown type %q", p.Type)
	}
	return nil
}

// Instantiate returns a copy of the site for one installation: its serial
// number and the randomness of its weather come from the installation's
// seed, so no two installations look alike; facility and location replace
// the profile's when set.
func (s *Site) Instantiate(seed []byte, facility, location string) *Site {
	c := *s
	h := sha256.Sum256(append([]byte("ics-site/"+s.ID+"/"), seed...))
	c.seed = binary.BigEndian.Uint64(h[:8])
	c.Serial = fmt.Sprintf("%s%02d%06d", s.Identity.SerialPrefix, 15+h[8]%10, binary.BigEndian.Uint32(h[9:13])%1000000)
	if facility != "" {
		c.Facility, c.FacilityASCII = facility, asciiOr(facility, s.FacilityASCII)
	}
	if location != "" {
		c.Location = location
	}
	return &c
}

// asciiOr returns s when it is printable ASCII (S7 strings are), else def.
func asciiOr(s, def string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return def
		}
	}
	return s
}

// Zone is the site's local time zone (a fixed offset: the data loggers
// keep local standard time).
func (s *Site) Zone() *time.Location {
	return time.FixedZone(fmt.Sprintf("UTC%+d", int(s.UTCOffset.Hours())), int(s.UTCOffset.Seconds()))
}
