package telnet

import (
	"bytes"
	"testing"
)

func TestDecoder(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		data   string
		cmds   []Command
	}{
		{"plain", []string{"root\r\n"}, "root\r\n", nil},
		{"cr nul", []string{"a\r\x00b"}, "a\rb", nil},
		{"escaped iac", []string{"x\xff\xffy"}, "x\xffy", nil},
		{"will do", []string{"\xff\xfb\x1f\xff\xfd\x01ok"}, "ok", []Command{{Verb: WILL, Opt: OptNAWS}, {Verb: DO, Opt: OptEcho}}},
		{"naws", []string{"\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"}, "", []Command{{Verb: SB, Opt: OptNAWS, Data: []byte{0, 80, 0, 24}}}},
		{"naws 255 escaped", []string{"\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0"}, "", []Command{{Verb: SB, Opt: OptNAWS, Data: []byte{0, 255, 0, 24}}}},
		{"split everywhere", []string{"\xff", "\xfa", "\x18", "\x00xterm", "\xff", "\xf0r", "oot"}, "root", []Command{{Verb: SB, Opt: OptTTYPE, Data: []byte("\x00xterm")}}},
		{"missing se", []string{"\xff\xfa\x1f\x00\x50\x00\x18\xff\xfb\x03a"}, "a", []Command{{Verb: SB, Opt: OptNAWS, Data: []byte{0, 80, 0, 24}}, {Verb: WILL, Opt: OptSGA}}},
		{"nop", []string{"a\xff\xf1b"}, "ab", []Command{{Verb: NOP}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			var data []byte
			var cmds []Command
			for _, ch := range tc.chunks {
				data = d.Decode([]byte(ch), data, func(c Command) {
					c.Data = append([]byte(nil), c.Data...)
					cmds = append(cmds, c)
				})
			}
			if string(data) != tc.data {
				t.Errorf("data %q, want %q", data, tc.data)
			}
			if len(cmds) != len(tc.cmds) {
				t.Fatalf("commands %+v, want %+v", cmds, tc.cmds)
			}
			for i := range cmds {
				if cmds[i].Verb != tc.cmds[i].Verb || cmds[i].Opt != tc.cmds[i].Opt || !bytes.Equal(cmds[i].Data, tc.cmds[i].Data) && len(tc.cmds[i].Data)+len(cmds[i].Data) > 0 {
					t.Errorf("command %d = %+v, want %+v", i, cmds[i], tc.cmds[i])
				}
			}
		})
	}
}

func TestSubnegotiationBounded(t *testing.T) {
	var d Decoder
	big := append([]byte{IAC, SB, OptTTYPE}, bytes.Repeat([]byte("A"), 100000)...)
	big = append(big, IAC, SE)
	var got []Command
	d.Decode(big, nil, func(c Command) { got = append(got, c) })
	if len(got) != 1 || len(got[0].Data) != maxSB {
		t.Fatalf("got %d commands, data %d bytes", len(got), len(got[0].Data))
	}
}

func TestNAWSAndTTYPE(t *testing.T) {
	if w, h, ok := NAWS([]byte{1, 0, 0, 50}); !ok || w != 256 || h != 50 {
		t.Fatalf("NAWS = %d %d %v", w, h, ok)
	}
	if _, _, ok := NAWS([]byte{1, 2, 3}); ok {
		t.Fatal("short NAWS accepted")
	}
	if tt, ok := TTYPE([]byte("\x00XTERM-256COLOR")); !ok || tt != "XTERM-256COLOR" {
		t.Fatalf("TTYPE = %q %v", tt, ok)
	}
	if _, ok := TTYPE([]byte("\x01")); ok {
		t.Fatal("TTYPE SEND accepted as IS")
	}
}

func TestNegotiator(t *testing.T) {
	busybox := newNegotiator([]byte{IAC, DO, OptEcho, IAC, DO, OptNAWS, IAC, WILL, OptEcho, IAC, WILL, OptSGA})
	for _, c := range []Command{{Verb: WILL, Opt: OptTTYPE}, {Verb: DO, Opt: OptLinemode}, {Verb: WILL, Opt: OptNAWS}} {
		if b := busybox.answer(c); b != nil {
			t.Errorf("busybox telnetd answered %+v with % x", c, b)
		}
	}
	netkit := newNegotiator([]byte{IAC, DO, OptTTYPE, IAC, DO, OptTSPEED})
	tests := []struct {
		in   Command
		want []byte
	}{
		{Command{Verb: WILL, Opt: OptTTYPE}, []byte{IAC, SB, OptTTYPE, ttypeSEND, IAC, SE}},
		{Command{Verb: WILL, Opt: OptTTYPE}, nil},
		{Command{Verb: WILL, Opt: OptLinemode}, []byte{IAC, DONT, OptLinemode}},
		{Command{Verb: WILL, Opt: OptLinemode}, nil},
		{Command{Verb: DO, Opt: OptEcho}, []byte{IAC, WILL, OptEcho}},
		{Command{Verb: DO, Opt: OptEcho}, nil},
		{Command{Verb: DO, Opt: OptNewEnv}, []byte{IAC, WONT, OptNewEnv}},
		{Command{Verb: WONT, Opt: OptTSPEED}, nil},
	}
	for i, tc := range tests {
		if got := netkit.answer(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("%d: answer(%+v) = % x, want % x", i, tc.in, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("root\r\n"), 3)
	f.Add([]byte("\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0"), 1)
	f.Add([]byte("\xff\xfb\x18\xff\xfa\x18\x00vt100\xff\xf0"), 5)
	f.Fuzz(func(t *testing.T, p []byte, split int) {
		var whole, parts Decoder
		var cw, cp int
		a := whole.Decode(p, nil, func(Command) { cw++ })
		split = int(uint(split) % uint(len(p)+1))
		b := parts.Decode(p[:split], nil, func(Command) { cp++ })
		b = parts.Decode(p[split:], b, func(Command) { cp++ })
		if !bytes.Equal(a, b) {
			t.Fatalf("data differs when split at %d: %q vs %q", split, a, b)
		}
		if cw != cp {
			t.Fatalf("commands differ when split at %d: %d vs %d", split, cw, cp)
		}
		if len(a) > len(p) {
			t.Fatalf("more data out (%d) than in (%d)", len(a), len(p))
		}
		neg := newNegotiator([]byte{IAC, DO, OptTTYPE})
		whole.Decode(p, nil, func(c Command) { _ = neg.answer(c) })
	})
}
