// Package all is the one list of compiled-in sensors: importing it registers
// every sensor. Adding a protocol adds one line here.
package all

import (
	_ "github.com/kansoku/kansoku/internal/sensor/amp"    // UDP reflectors (amplification honeypot)
	_ "github.com/kansoku/kansoku/internal/sensor/banner" // catch-all TCP
	_ "github.com/kansoku/kansoku/internal/sensor/eth"    // Ethereum JSON-RPC honeypot
	_ "github.com/kansoku/kansoku/internal/sensor/http"   // HTTP IoT honeypot (device web UIs, exploits)
	_ "github.com/kansoku/kansoku/internal/sensor/ics"    // infrastructure honeypot (Modbus, S7, BACnet)
	_ "github.com/kansoku/kansoku/internal/sensor/rdp"    // RDP (telework honeypot)
	_ "github.com/kansoku/kansoku/internal/sensor/ssh"    // SSH IoT honeypot
	_ "github.com/kansoku/kansoku/internal/sensor/telnet" // Telnet IoT honeypot
	_ "github.com/kansoku/kansoku/internal/sensor/vpn"    // SSL-VPN portals (telework honeypot)
)
