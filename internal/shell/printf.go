package shell

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// cmdPrintf is BusyBox printf: the format is reused while arguments
// remain; %b expands echo-style escapes; bad numbers are reported and
// count as 0.
func cmdPrintf(s *Shell, c *call) int {
	builtin := c.args[0] == "printf"
	if len(c.args) < 2 {
		bbErr(c, builtin, "usage: printf FORMAT [ARGUMENT...]")
		return 2
	}
	// output written so far precedes each error, as with BusyBox's stdio
	var out []byte
	written := 0
	out, st := formatPrintf(c.args[1], c.args[2:], func(sofar []byte, msg string) {
		c.out.Write(sofar[written:])
		written = len(sofar)
		bbErr(c, builtin, "%s", msg)
	})
	c.out.Write(out[written:])
	return st
}

// formatPrintf renders format with args; errf gets conversion errors.
func formatPrintf(format string, args []string, errf func(sofar []byte, msg string)) ([]byte, int) {
	var out []byte
	st := 0
	next := func() (string, bool) {
		if len(args) == 0 {
			return "", false
		}
		a := args[0]
		args = args[1:]
		return a, true
	}
	num := func(a string) int64 {
		if len(a) > 1 && (a[0] == '\'' || a[0] == '"') {
			return int64(a[1])
		}
		t := strings.TrimSpace(a)
		v, err := strconv.ParseInt(t, 0, 64)
		if err != nil {
			if u, uerr := strconv.ParseUint(t, 0, 64); uerr == nil {
				return int64(u)
			}
			errf(out, fmt.Sprintf("invalid number '%s'", a))
			st = 1
			// strtoll keeps the leading digits
			e := 0
			for e < len(t) && (t[e] >= '0' && t[e] <= '9' || e == 0 && (t[e] == '-' || t[e] == '+')) {
				e++
			}
			v, _ = strconv.ParseInt(t[:e], 10, 64)
		}
		return v
	}
	for iter := 0; iter < 10000; iter++ {
		consumed := false
		for i := 0; i < len(format); i++ {
			ch := format[i]
			if ch == '\\' {
				j := i + 1
				if j < len(format) && format[j] == 'c' {
					return out, st
				}
				end := j
				if end < len(format) {
					switch {
					case format[end] == 'x':
						end++
						for k := 0; k < 2 && end < len(format) && isHex(format[end]); k++ {
							end++
						}
					case format[end] >= '0' && format[end] <= '7':
						for k := 0; k < 3 && end < len(format) && format[end] >= '0' && format[end] <= '7'; k++ {
							end++
						}
					default:
						end++
					}
				}
				d, _ := decodeEscapes(format[i:end], false)
				out = append(out, d...)
				i = end - 1
				continue
			}
			if ch != '%' {
				out = append(out, ch)
				continue
			}
			if i+1 < len(format) && format[i+1] == '%' {
				out = append(out, '%')
				i++
				continue
			}
			// %[flags][width][.prec][len]conv
			j := i + 1
			for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
				j++
			}
			spec := format[i:j]
			if j < len(format) && format[j] == '*' {
				a, _ := next()
				spec += strconv.FormatInt(num(a), 10)
				j++
				consumed = true
			} else {
				for j < len(format) && format[j] >= '0' && format[j] <= '9' {
					spec += format[j : j+1]
					j++
				}
			}
			if j < len(format) && format[j] == '.' {
				spec += "."
				j++
				if j < len(format) && format[j] == '*' {
					a, _ := next()
					spec += strconv.FormatInt(num(a), 10)
					j++
					consumed = true
				} else {
					for j < len(format) && format[j] >= '0' && format[j] <= '9' {
						spec += format[j : j+1]
						j++
					}
				}
			}
			for j < len(format) && strings.IndexByte("hlLqjzt", format[j]) >= 0 {
				j++
			}
			if j >= len(format) {
				out = append(out, format[i:]...)
				break
			}
			conv := format[j]
			spec = clampSpec(spec)
			i = j
			a, ok := next()
			consumed = consumed || ok
			switch conv {
			case 's':
				out = append(out, fmt.Sprintf(spec+"s", a)...)
			case 'b':
				d, stop := decodeEscapes(a, true)
				out = append(out, fmt.Sprintf(spec+"s", d)...)
				if stop {
					return out, st
				}
			case 'c':
				if a != "" {
					out = append(out, fmt.Sprintf(spec+"c", a[0])...)
				}
			case 'd', 'i':
				out = append(out, fmt.Sprintf(spec+"d", num(a))...)
			case 'u':
				out = append(out, fmt.Sprintf(spec+"d", uint64(num(a)))...)
			case 'x', 'X', 'o':
				out = append(out, fmt.Sprintf(spec+string(conv), uint64(num(a)))...)
			case 'e', 'E', 'f', 'F', 'g', 'G':
				v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
				if err != nil && a != "" {
					errf(out, fmt.Sprintf("invalid number '%s'", a))
					st = 1
				}
				if !strings.Contains(spec, ".") && (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E') {
					spec += ".6"
				}
				out = append(out, fmt.Sprintf(spec+string(conv|0x20), v)...)
			default:
				errf(out, fmt.Sprintf("%%%c: invalid format", conv))
				return out, 1
			}
			if len(out) > 1<<20 {
				return out, st
			}
		}
		if len(args) == 0 || !consumed {
			break
		}
	}
	return out, st
}

var bigNum = regexp.MustCompile(`[0-9]{5,}`)

// clampSpec bounds width and precision so a format cannot allocate
// without limit.
func clampSpec(spec string) string {
	spec = strings.ReplaceAll(spec, "-", "-")
	return bigNum.ReplaceAllString(strings.Replace(spec, ".-", ".", 1), "9999")
}
