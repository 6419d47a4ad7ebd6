package shell

import (
	"fmt"
	"strconv"
	"strings"
)

func trSet(spec string) []byte {
	var out []byte
	d, _ := decodeEscapes(spec, false)
	spec = string(d)
	classes := map[string]string{
		"[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "[:lower:]": "abcdefghijklmnopqrstuvwxyz",
		"[:digit:]": "0123456789", "[:space:]": " \t\n\r\v\f", "[:blank:]": " \t",
	}
	classes["[:alpha:]"] = classes["[:upper:]"] + classes["[:lower:]"]
	classes["[:alnum:]"] = classes["[:alpha:]"] + classes["[:digit:]"]
	for i := 0; i < len(spec); i++ {
		matched := false
		for k, v := range classes {
			if strings.HasPrefix(spec[i:], k) {
				out = append(out, v...)
				i += len(k) - 1
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if i+2 < len(spec) && spec[i+1] == '-' && spec[i+2] >= spec[i] {
			for ch := int(spec[i]); ch <= int(spec[i+2]); ch++ {
				out = append(out, byte(ch))
			}
			i += 2
			continue
		}
		out = append(out, spec[i])
	}
	return out
}

func cmdTr(s *Shell, c *call) int {
	set, args := flags(c.args[1:], "")
	if len(args) == 0 {
		return s.usage(c, "tr")
	}
	in := c.in.rest()
	s1 := trSet(args[0])
	var out []byte
	switch {
	case has(set, 'd'):
		del := [256]bool{}
		for _, ch := range s1 {
			del[ch] = true
		}
		for _, ch := range in {
			if !del[ch] {
				out = append(out, ch)
			}
		}
	case len(args) >= 2:
		s2 := trSet(args[1])
		var m [256]byte
		for i := range m {
			m[i] = byte(i)
		}
		for i, ch := range s1 {
			if len(s2) == 0 {
				break
			}
			j := i
			if j >= len(s2) {
				j = len(s2) - 1
			}
			m[ch] = s2[j]
		}
		out = make([]byte, len(in))
		for i, ch := range in {
			out[i] = m[ch]
		}
		if has(set, 's') {
			out = squeeze(out, s2)
		}
	case has(set, 's'):
		out = squeeze(in, s1)
	default:
		out = in
	}
	c.out.Write(out)
	return 0
}

func squeeze(b, set []byte) []byte {
	var in [256]bool
	for _, ch := range set {
		in[ch] = true
	}
	var out []byte
	for i, ch := range b {
		if i > 0 && ch == b[i-1] && in[ch] {
			continue
		}
		out = append(out, ch)
	}
	return out
}

func cmdYes(s *Shell, c *call) int {
	w := "y"
	if len(c.args) > 1 {
		w = strings.Join(c.args[1:], " ")
	}
	line := []byte(w + "\n")
	for i := 0; i < 1<<16; i++ {
		if _, err := c.out.Write(line); err != nil {
			break
		}
	}
	return 0
}

func cmdSeq(s *Shell, c *call) int {
	var nums []int
	for _, a := range c.args[1:] {
		n, err := strconv.Atoi(a)
		if err != nil {
			c.errf("invalid number '%s'", a)
			return 1
		}
		nums = append(nums, n)
	}
	first, step, last := 1, 1, 0
	switch len(nums) {
	case 1:
		last = nums[0]
	case 2:
		first, last = nums[0], nums[1]
	case 3:
		first, step, last = nums[0], nums[1], nums[2]
	default:
		return s.usage(c, "seq")
	}
	if step == 0 {
		return 1
	}
	var b strings.Builder
	for i, n := first, 0; (step > 0 && i <= last || step < 0 && i >= last) && n < 100000; i, n = i+step, n+1 {
		b.WriteString(strconv.Itoa(i) + "\n")
	}
	c.out.Write([]byte(b.String()))
	return 0
}

func cmdTee(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "")
	data := c.in.rest()
	st := 0
	for _, f := range files {
		w, err := s.openOut(c.fr, c.stdio, f, has(set, 'a'))
		if err != nil {
			st = 1
			continue
		}
		w.Write(data)
	}
	c.out.Write(data)
	return st
}

func cmdHexdump(s *Shell, c *call) int {
	_, files := flags(c.args[1:], "nsNje")
	_, datas, st := s.inputs(c, files, "")
	// Streamed a chunk at a time: a 16 MiB file never becomes 70 MB of
	// text in memory, and the output budget, a full pipe or the busy-time
	// cap stops the dump early, as a closed terminal would.
	const hexdigits = "0123456789abcdef"
	buf := make([]byte, 0, 32<<10)
	off := 0
	flush := func() bool {
		_, err := c.out.Write(buf)
		buf = buf[:0]
		return err == nil && !s.overBusy()
	}
	for _, d := range datas {
		for i := 0; i < len(d); i += 16 {
			e := min(i+16, len(d))
			buf = fmt.Appendf(buf, "%08x  ", off+i)
			for j := i; j < i+16; j++ {
				if j < e {
					buf = append(buf, hexdigits[d[j]>>4], hexdigits[d[j]&15], ' ')
				} else {
					buf = append(buf, "   "...)
				}
				if j == i+7 {
					buf = append(buf, ' ')
				}
			}
			buf = append(buf, " |"...)
			for _, ch := range d[i:e] {
				if ch < 32 || ch > 126 {
					ch = '.'
				}
				buf = append(buf, ch)
			}
			buf = append(buf, "|\n"...)
			if len(buf) > cap(buf)-128 && !flush() {
				return st
			}
		}
		off += len(d)
	}
	buf = fmt.Appendf(buf, "%08x\n", off)
	flush()
	return st
}
