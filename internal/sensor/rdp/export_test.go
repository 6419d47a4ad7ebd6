package rdp

import "crypto/tls"

// Hooks for the external tests' fuzzers.
var (
	ReadDER     = readDER
	UnwrapToken = unwrapToken
)

// TLSConfig is the sensor's TLS config, for the benchmark's bare baseline.
func (s *Sensor) TLSConfig() *tls.Config { return s.tls }
