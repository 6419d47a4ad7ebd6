package telnet

import "strconv"

// Telnet commands (RFC 854).
const (
	cmdSE   = 240
	cmdSB   = 250
	cmdWILL = 251
	cmdWONT = 252
	cmdDO   = 253
	cmdDONT = 254
	cmdIAC  = 255
)

// Option is one negotiation the server sent.
type Option struct {
	Command string `json:"command"` // WILL, WONT, DO, DONT, SB
	Code    byte   `json:"code"`
	Name    string `json:"name"`
}

var optionNames = map[byte]string{
	0: "BINARY", 1: "ECHO", 3: "SUPPRESS-GO-AHEAD", 5: "STATUS", 6: "TIMING-MARK",
	24: "TERMINAL-TYPE", 31: "NAWS", 32: "TERMINAL-SPEED", 33: "REMOTE-FLOW-CONTROL",
	34: "LINEMODE", 35: "X-DISPLAY-LOCATION", 36: "OLD-ENVIRON", 37: "AUTHENTICATION",
	38: "ENCRYPT", 39: "NEW-ENVIRON",
}

func optionName(b byte) string {
	if n, ok := optionNames[b]; ok {
		return n
	}
	return "OPTION-" + strconv.Itoa(int(b))
}

var commandNames = map[byte]string{cmdWILL: "WILL", cmdWONT: "WONT", cmdDO: "DO", cmdDONT: "DONT", cmdSB: "SB"}

// maxSubneg bounds one subnegotiation a hostile server may send.
const maxSubneg = 256

// ParseIAC splits a server stream into printable data and the options
// negotiated. rest is an incomplete IAC sequence at the end of b, to be
// prepended to the next read.
func ParseIAC(b []byte) (text []byte, opts []Option, rest []byte) {
	for i := 0; i < len(b); {
		c := b[i]
		if c != cmdIAC {
			text = append(text, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return text, opts, b[i:]
		}
		cmd := b[i+1]
		switch cmd {
		case cmdIAC: // escaped 0xff data byte
			text = append(text, cmdIAC)
			i += 2
		case cmdWILL, cmdWONT, cmdDO, cmdDONT:
			if i+2 >= len(b) {
				return text, opts, b[i:]
			}
			opts = append(opts, Option{Command: commandNames[cmd], Code: b[i+2], Name: optionName(b[i+2])})
			i += 3
		case cmdSB:
			// Subnegotiation runs to IAC SE.
			end := -1
			for j := i + 2; j+1 < len(b) && j < i+2+maxSubneg; j++ {
				if b[j] == cmdIAC && b[j+1] == cmdSE {
					end = j
					break
				}
			}
			if end < 0 {
				if len(b)-i < maxSubneg {
					return text, opts, b[i:]
				}
				i += 2 // runaway subnegotiation: drop the marker, keep going
				continue
			}
			if i+2 < end {
				opts = append(opts, Option{Command: "SB", Code: b[i+2], Name: optionName(b[i+2])})
			}
			i = end + 2
		default: // two-byte commands (NOP, GA, …)
			i += 2
		}
	}
	return text, opts, nil
}

// Refuse builds the reply that declines every option the server offered or
// asked for, as ZGrab2 does: DO → WONT, WILL → DONT.
func Refuse(opts []Option) []byte {
	var out []byte
	for _, o := range opts {
		switch o.Command {
		case "DO":
			out = append(out, cmdIAC, cmdWONT, o.Code)
		case "WILL":
			out = append(out, cmdIAC, cmdDONT, o.Code)
		}
	}
	return out
}
