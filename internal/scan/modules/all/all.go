// Package all registers every scanner grab module; import it for its side
// effect wherever scans run (the CLI, serve).
package all

import (
	_ "github.com/kansoku/kansoku/internal/scan/modules/chargen"   // CharGen reflector probe
	_ "github.com/kansoku/kansoku/internal/scan/modules/dns"       // open resolver probe
	_ "github.com/kansoku/kansoku/internal/scan/modules/ftp"       // FTP banner
	_ "github.com/kansoku/kansoku/internal/scan/modules/http"      // HTTP and HTTPS
	_ "github.com/kansoku/kansoku/internal/scan/modules/memcached" // memcached reflector probe
	_ "github.com/kansoku/kansoku/internal/scan/modules/modbus"    // Modbus FC43/14
	_ "github.com/kansoku/kansoku/internal/scan/modules/ntp"       // NTP mode 7 / mode 6
	_ "github.com/kansoku/kansoku/internal/scan/modules/snmp"      // SNMP v2c sysDescr
	_ "github.com/kansoku/kansoku/internal/scan/modules/ssdp"      // SSDP M-SEARCH
	_ "github.com/kansoku/kansoku/internal/scan/modules/ssh"       // SSH banner, KEXINIT, host key
	_ "github.com/kansoku/kansoku/internal/scan/modules/telnet"    // Telnet banner and options
)
