package telnet

import "bytes"

// Telnet commands (RFC 854) and options.
const (
	SE   = 240
	NOP  = 241
	SB   = 250
	WILL = 251
	WONT = 252
	DO   = 253
	DONT = 254
	IAC  = 255

	OptEcho     = 1
	OptSGA      = 3
	OptTTYPE    = 24
	OptNAWS     = 31
	OptTSPEED   = 32
	OptLinemode = 34
	OptNewEnv   = 39

	ttypeIS   = 0
	ttypeSEND = 1
)

// maxSB bounds one subnegotiation; longer ones are cut (and still parsed
// as far as they go), so a client cannot make the parser grow.
const maxSB = 512

// Command is one negotiation command received from the client.
type Command struct {
	Verb byte   // WILL, WONT, DO, DONT, SB, or another IAC command (NOP, AYT, …)
	Opt  byte   // the option (for WILL..DONT and SB)
	Data []byte // SB payload, IAC IAC unescaped, valid until the next Decode
}

type state uint8

const (
	stData state = iota
	stCR
	stIAC
	stVerb
	stSB
	stSBData
	stSBIAC
)

// Decoder splits a client's byte stream into data and commands. It keeps
// state across calls, so sequences split over reads are handled.
type Decoder struct {
	st   state
	verb byte
	opt  byte
	sb   []byte
}

// Decode consumes p, appends the data bytes to data (CR NUL becomes CR) and
// calls cmd for each complete command.
func (d *Decoder) Decode(p, data []byte, cmd func(Command)) []byte {
	// Fast path: plain data with no IAC and no NUL (so no CR NUL) is
	// copied as it is; that is nearly every read once negotiation is over.
	if d.st == stData && len(p) > 0 && bytes.IndexByte(p, IAC) < 0 && bytes.IndexByte(p, 0) < 0 {
		if p[len(p)-1] == '\r' {
			d.st = stCR
		}
		return append(data, p...)
	}
	for _, c := range p {
		switch d.st {
		case stData, stCR:
			if c == IAC {
				d.st = stIAC
				continue
			}
			if d.st == stCR && c == 0 {
				d.st = stData
				continue
			}
			data = append(data, c)
			if c == '\r' {
				d.st = stCR
			} else {
				d.st = stData
			}
		case stIAC:
			switch c {
			case IAC:
				data = append(data, IAC)
				d.st = stData
			case WILL, WONT, DO, DONT:
				d.verb = c
				d.st = stVerb
			case SB:
				d.st = stSB
			default:
				d.st = stData
				cmd(Command{Verb: c})
			}
		case stVerb:
			d.st = stData
			cmd(Command{Verb: d.verb, Opt: c})
		case stSB:
			d.opt = c
			d.sb = d.sb[:0]
			d.st = stSBData
		case stSBData:
			if c == IAC {
				d.st = stSBIAC
			} else if len(d.sb) < maxSB {
				d.sb = append(d.sb, c)
			}
		case stSBIAC:
			switch c {
			case SE:
				d.st = stData
				cmd(Command{Verb: SB, Opt: d.opt, Data: d.sb})
			case IAC:
				if len(d.sb) < maxSB {
					d.sb = append(d.sb, IAC)
				}
				d.st = stSBData
			default:
				// RFC 855 leaves this undefined; clients that forget IAC SE
				// get their subnegotiation ended here, as netkit telnetd does.
				cmd(Command{Verb: SB, Opt: d.opt, Data: d.sb})
				d.st = stIAC
				d.Decode([]byte{c}, nil, cmd)
			}
		}
	}
	return data
}

// NAWS decodes a NAWS subnegotiation payload (RFC 1073).
func NAWS(b []byte) (width, height int, ok bool) {
	if len(b) != 4 {
		return 0, 0, false
	}
	return int(b[0])<<8 | int(b[1]), int(b[2])<<8 | int(b[3]), true
}

// TTYPE decodes a TTYPE IS subnegotiation payload (RFC 1091).
func TTYPE(b []byte) (string, bool) {
	if len(b) < 1 || b[0] != ttypeIS || len(b) > 41 {
		return "", false
	}
	return string(b[1:]), true
}

// negotiator answers the client's negotiation the way the profile's
// telnetd does. BusyBox telnetd sends its options once and never answers
// (it only reads NAWS); netkit-style telnetds (the ones that ask for
// TTYPE) answer by RFC 854: refuse what they did not offer, ask for the
// terminal type when the client agrees to send it.
type negotiator struct {
	netkit  bool
	did     [256]bool // options we sent DO for
	will    [256]bool // options we sent WILL for
	refused [256]bool // options already refused (answer loops are forbidden)
	sentTT  bool
}

func newNegotiator(initial []byte) *negotiator {
	n := &negotiator{}
	for i := 0; i+2 < len(initial); i++ {
		if initial[i] != IAC {
			continue
		}
		switch initial[i+1] {
		case DO:
			n.did[initial[i+2]] = true
			if initial[i+2] == OptTTYPE {
				n.netkit = true
			}
		case WILL:
			n.will[initial[i+2]] = true
		}
	}
	return n
}

// answer returns the bytes to send for a received command.
func (n *negotiator) answer(c Command) []byte {
	if !n.netkit {
		return nil
	}
	switch c.Verb {
	case WILL:
		if n.did[c.Opt] {
			if c.Opt == OptTTYPE && !n.sentTT {
				n.sentTT = true
				return []byte{IAC, SB, OptTTYPE, ttypeSEND, IAC, SE}
			}
			return nil
		}
		if !n.refused[c.Opt] {
			n.refused[c.Opt] = true
			return []byte{IAC, DONT, c.Opt}
		}
	case DO:
		if n.will[c.Opt] || n.refused[c.Opt] {
			return nil
		}
		if c.Opt == OptEcho || c.Opt == OptSGA {
			// netkit telnetd agrees to echo and suppress go-ahead.
			n.will[c.Opt] = true
			return []byte{IAC, WILL, c.Opt}
		}
		n.refused[c.Opt] = true
		return []byte{IAC, WONT, c.Opt}
	}
	return nil
}
