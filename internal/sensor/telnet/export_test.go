package telnet

import "time"

// SetLoginTimeout shortens login's alarm for a test.
func SetLoginTimeout(d time.Duration) (restore func()) {
	old := loginTimeout
	loginTimeout = d
	return func() { loginTimeout = old }
}
