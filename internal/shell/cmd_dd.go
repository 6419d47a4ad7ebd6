package shell

import (
	"fmt"
	"strconv"
	"strings"
)

func init() {
	fsApplets["dd"] = cmdDd
	fsApplets["head"] = cmdHead
	fsApplets["tail"] = cmdTail
}

// parseSize parses dd/head numbers with BusyBox suffixes.
func parseSize(v string) (int64, bool) {
	mult := int64(1)
	for _, sfx := range []struct {
		s string
		m int64
	}{{"kB", 1000}, {"MB", 1000000}, {"GB", 1000000000}, {"k", 1024}, {"K", 1024}, {"M", 1 << 20}, {"G", 1 << 30}, {"b", 512}, {"w", 2}, {"c", 1}} {
		if strings.HasSuffix(v, sfx.s) && len(v) > len(sfx.s) {
			v, mult = strings.TrimSuffix(v, sfx.s), sfx.m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if n > 0 && mult > (1<<40)/n {
		return 1 << 40, true
	}
	return n * mult, true
}

func cmdDd(s *Shell, c *call) int {
	var inName, outName string
	bs, count, skip, seek := int64(512), int64(-1), int64(0), int64(0)
	notrunc := false
	for _, a := range c.args[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return s.usage(c, "dd")
		}
		var n int64
		if k != "if" && k != "of" && k != "conv" && k != "status" && k != "iflag" && k != "oflag" {
			var good bool
			n, good = parseSize(v)
			if !good {
				c.errf("invalid number '%s'", v)
				return 1
			}
		}
		switch k {
		case "if":
			inName = v
		case "of":
			outName = v
		case "bs", "ibs", "obs":
			if n == 0 {
				c.errf("invalid number '%s'", v)
				return 1
			}
			bs = n
		case "count":
			count = n
		case "skip":
			skip = n
		case "seek":
			seek = n
		case "conv":
			notrunc = strings.Contains(v, "notrunc")
		}
	}
	var data []byte
	if inName == "" {
		data = c.in.rest()
	} else {
		_, n, err := s.fs.lookup(s.cwd, inName, true)
		if err == nil && n.isDir() {
			err = errIsDir
		}
		if err != nil {
			c.errf("can't open '%s': %s", inName, err)
			return 1
		}
		if n.dev == devZero || n.dev == devRandom {
			// endless devices: read what was asked for, but never much
			// more than a file may hold
			want := s.lim.MaxFileBytes + bs
			if count >= 0 && bs*(count+skip) < want {
				want = bs * (count + skip)
			}
			data = make([]byte, want)
			if n.dev == devRandom {
				s.rnd.Read(data)
			}
		} else {
			data = s.readAll(n)
		}
	}
	off := skip * bs
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	data = data[off:]
	if count >= 0 && count*bs < int64(len(data)) {
		data = data[:count*bs]
	}
	full, part := int64(len(data))/bs, int64(0)
	if int64(len(data))%bs != 0 {
		part = 1
	}
	outFull, outPart, outBytes := full, part, int64(len(data))
	st := 0
	if outName == "" {
		c.out.Write(data)
	} else {
		p, n, err := s.fs.create(s.cwd, outName, notrunc || seek > 0)
		if err != nil {
			c.errf("can't open '%s': %s", outName, err)
			return 1
		}
		_ = p
		if n.dev == devNone && !n.proc {
			s.noteWrite(n)
			old := n.content()
			pos := seek * bs
			if pos > s.lim.MaxFileBytes {
				pos = s.lim.MaxFileBytes
			}
			nd := make([]byte, max(int64(len(old)), pos+int64(len(data))))
			copy(nd, old)
			copy(nd[pos:], data)
			if !notrunc {
				nd = nd[:pos+int64(len(data))]
			}
			if err := s.fs.setData(n, nd); err != nil {
				// dd writes block by block: what went out before the
				// write that failed stays in the file, and only it is
				// counted as records out.
				keep := min(int64(len(nd)), s.fs.maxFile, s.fs.maxBytes-s.fs.used+int64(len(old)), s.fs.budget.room()+int64(len(old)))
				if keep > int64(len(old)) || !notrunc {
					_ = s.fs.setData(n, nd[:max(keep, 0)])
				}
				written := min(max(keep-pos, 0), int64(len(data)))
				outFull, outPart, outBytes = written/bs, 0, written
				if written%bs != 0 {
					outPart = 1
				}
				c.errf("error writing '%s': %s", outName, err)
				st = 1
			}
			n.owned = true
		} else if err := s.fs.write(n, data); err != nil {
			c.errf("error writing '%s': %s", outName, err)
			st = 1
		}
	}
	fmt.Fprintf(c.err, "%d+%d records in\n%d+%d records out\n", full, part, outFull, outPart)
	if s.prof.BusyBox.DDBytesLine {
		fmt.Fprintf(c.err, "%d bytes (%s) copied, 0.000%03d seconds, %s/s\n", outBytes, humanBytes(outBytes), 100+s.rnd.Intn(800), humanBytes(outBytes*2000))
	}
	return st
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// headTailArgs parses -n N / -c N / -N / +N.
func headTailArgs(args []string) (lines, bytes int64, fromStart bool, files []string, ok bool) {
	lines, bytes = 10, -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-n" || a == "-c":
			if i+1 >= len(args) {
				return 0, 0, false, nil, false
			}
			v := args[i+1]
			i++
			if strings.HasPrefix(v, "+") {
				fromStart = true
				v = v[1:]
			}
			n, good := parseSize(strings.TrimPrefix(v, "-"))
			if !good {
				return 0, 0, false, nil, false
			}
			if a == "-n" {
				lines = n
			} else {
				bytes = n
			}
		case strings.HasPrefix(a, "-n") || strings.HasPrefix(a, "-c"):
			n, good := parseSize(strings.TrimPrefix(a[2:], "+"))
			if !good {
				return 0, 0, false, nil, false
			}
			fromStart = strings.HasPrefix(a[2:], "+")
			if a[1] == 'n' {
				lines = n
			} else {
				bytes = n
			}
		case len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9':
			n, good := parseSize(a[1:])
			if !good {
				return 0, 0, false, nil, false
			}
			lines = n
		case a == "-f" || a == "-F" || a == "-q" || a == "-v":
		default:
			files = append(files, a)
		}
	}
	return lines, bytes, fromStart, files, true
}

func cmdHead(s *Shell, c *call) int {
	lines, nbytes, _, files, ok := headTailArgs(c.args[1:])
	if !ok {
		return s.usage(c, "head")
	}
	names, datas, st := s.inputs(c, files, "")
	for i, d := range datas {
		if len(datas) > 1 {
			if i > 0 {
				fmt.Fprintln(c.out)
			}
			fmt.Fprintf(c.out, "==> %s <==\n", names[i])
		}
		if nbytes >= 0 {
			c.out.Write(d[:min(int64(len(d)), nbytes)])
			continue
		}
		end, k := 0, int64(0)
		for end < len(d) && k < lines {
			j := strings.IndexByte(string(d[end:]), '\n')
			if j < 0 {
				end = len(d)
				break
			}
			end += j + 1
			k++
		}
		c.out.Write(d[:end])
	}
	return st
}

func cmdTail(s *Shell, c *call) int {
	lines, nbytes, fromStart, files, ok := headTailArgs(c.args[1:])
	if !ok {
		return s.usage(c, "tail")
	}
	names, datas, st := s.inputs(c, files, "open")
	if len(datas) == 0 && len(files) > 0 {
		c.errf("no files")
	}
	for i, d := range datas {
		if len(datas) > 1 {
			if i > 0 {
				fmt.Fprintln(c.out)
			}
			fmt.Fprintf(c.out, "==> %s <==\n", names[i])
		}
		if nbytes >= 0 {
			if fromStart {
				c.out.Write(d[min(int64(len(d)), max(nbytes-1, 0)):])
			} else {
				c.out.Write(d[int64(len(d))-min(int64(len(d)), nbytes):])
			}
			continue
		}
		ls := splitLines(d)
		trail := len(d) > 0 && d[len(d)-1] == '\n'
		var sel []string
		if fromStart {
			sel = ls[min(len(ls), int(max(lines-1, 0))):]
		} else {
			sel = ls[len(ls)-min(len(ls), int(min(lines, int64(len(ls))))):]
		}
		out := strings.Join(sel, "\n")
		if trail && len(sel) > 0 {
			out += "\n"
		}
		c.out.Write([]byte(out))
	}
	return st
}
