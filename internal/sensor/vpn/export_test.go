package vpn

import "crypto/tls"

// TLSConfig is the sensor's TLS config, for the benchmark's bare baseline.
func (s *Sensor) TLSConfig() *tls.Config { return s.tls }
