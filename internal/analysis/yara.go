package analysis

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The family rules ship as data inside the binary, so a worker needs only
// the yara tool (Debian package yara, 4.2.x) and no rule checkout.
//
//go:embed rules/*.yar
var embeddedRules embed.FS

// ErrYaraMissing is reported when the yara binary cannot be found.
var ErrYaraMissing = errors.New("yara: not installed")

const (
	maxYaraOutput       = 4 << 20
	maxMatchStrings     = 32 // string hits kept per rule
	maxYaraMatches      = 64
	maxYaraStringLength = 256
)

// YaraResult is the outcome of running the rules.
type YaraResult struct {
	Version string      `json:"version,omitempty"`
	Rules   []string    `json:"rules,omitempty"` // rule files used
	Matches []YaraMatch `json:"matches,omitempty"`
	Error   string      `json:"error,omitempty"`
}

// YaraMatch is one matching rule.
type YaraMatch struct {
	Rule    string            `json:"rule"`
	Tags    []string          `json:"tags,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
	Strings []YaraString      `json:"strings,omitempty"`
}

// YaraString is one string hit as yara prints it (escaped by yara).
type YaraString struct {
	Offset uint64 `json:"offset"`
	ID     string `json:"id"`
	Data   string `json:"data"`
}

// EmbeddedRules returns the names and text of the shipped rule files.
func EmbeddedRules() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(embeddedRules, "rules", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := embeddedRules.ReadFile(path)
		if err != nil {
			return err
		}
		out[d.Name()] = string(b)
		return nil
	})
	return out, err
}

// runYara writes the sample and the rules to a private temp dir and runs
// `yara -g -m -s -w rules… sample`. The sample is only read by yara.
func runYara(ctx context.Context, data []byte, opts Options) (YaraResult, error) {
	var res YaraResult
	bin, err := exec.LookPath(opts.YaraPath)
	if err != nil {
		res.Error = ErrYaraMissing.Error()
		return res, ErrYaraMissing
	}
	dir, err := os.MkdirTemp("", "kansoku-yara-")
	if err != nil {
		return res, fmt.Errorf("yara: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	rules, err := EmbeddedRules()
	if err != nil {
		return res, fmt.Errorf("yara: embedded rules: %w", err)
	}
	var ruleFiles []string
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte(rules[n]), 0o600); err != nil {
			return res, fmt.Errorf("yara: write rules: %w", err)
		}
		ruleFiles = append(ruleFiles, p)
		res.Rules = append(res.Rules, n)
	}
	for _, d := range opts.Rules {
		for _, pat := range []string{"*.yar", "*.yara"} {
			m, err := filepath.Glob(filepath.Join(d, pat))
			if err != nil {
				return res, fmt.Errorf("yara: rules dir %s: %w", d, err)
			}
			for _, f := range m {
				ruleFiles = append(ruleFiles, f)
				res.Rules = append(res.Rules, f)
			}
		}
	}
	sample := filepath.Join(dir, "sample")
	if err := os.WriteFile(sample, data, 0o600); err != nil {
		return res, fmt.Errorf("yara: write sample: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, opts.YaraTimeout)
	defer cancel()
	secs := max(1, int(opts.YaraTimeout.Seconds()))
	args := append([]string{"-g", "-m", "-s", "-w", "-a", strconv.Itoa(secs)}, ruleFiles...)
	args = append(args, sample)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxYaraOutput, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			res.Error = "yara: timed out"
			return res, fmt.Errorf("yara: %w", ctx.Err())
		}
		msg := strings.TrimSpace(stderr.String())
		res.Error = printable("yara: "+msg, 1024)
		return res, fmt.Errorf("yara: run: %w: %s", err, printable(msg, 1024))
	}
	res.Matches = parseYaraOutput(stdout.Bytes(), sample)
	res.Version = yaraVersion(ctx, bin)
	return res, nil
}

var yaraVersions sync.Map // binary path → version string

// yaraVersion asks the binary once per process for its version.
func yaraVersion(ctx context.Context, bin string) string {
	if v, ok := yaraVersions.Load(bin); ok {
		return v.(string)
	}
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return ""
	}
	v := printable(strings.TrimSpace(string(out)), 64)
	yaraVersions.Store(bin, v)
	return v
}

// limitedBuffer keeps the first max bytes and drops the rest, so a rule
// that matches a million times cannot exhaust memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// parseYaraOutput reads `-g -m -s` output:
//
//	Rule [tag1,tag2] [key="value",n=1] /path/sample
//	0x1c:$a: text
func parseYaraOutput(out []byte, sample string) []YaraMatch {
	var matches []YaraMatch
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "0x") && len(matches) > 0 {
			m := &matches[len(matches)-1]
			if len(m.Strings) >= maxMatchStrings {
				continue
			}
			offS, rest, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			id, text, _ := strings.Cut(rest, ": ")
			off, err := strconv.ParseUint(strings.TrimPrefix(offS, "0x"), 16, 64)
			if err != nil {
				continue
			}
			m.Strings = append(m.Strings, YaraString{Offset: off, ID: id, Data: printable(text, maxYaraStringLength)})
			continue
		}
		line, ok := strings.CutSuffix(line, " "+sample)
		if !ok || len(matches) >= maxYaraMatches {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		m := YaraMatch{Rule: name, Meta: map[string]string{}}
		if group, r, ok := bracket(rest); ok {
			for _, t := range strings.Split(group, ",") {
				if t != "" {
					m.Tags = append(m.Tags, t)
				}
			}
			rest = r
		}
		if group, _, ok := bracket(rest); ok {
			m.Meta = parseMeta(group)
		}
		matches = append(matches, m)
	}
	return matches
}

// bracket returns the text inside a leading [...] group, honouring quotes.
func bracket(s string) (inner, rest string, ok bool) {
	s = strings.TrimLeft(s, " ")
	if !strings.HasPrefix(s, "[") {
		return "", s, false
	}
	inQ := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQ {
				i++
			}
		case '"':
			inQ = !inQ
		case ']':
			if !inQ {
				return s[1:i], s[i+1:], true
			}
		}
	}
	return "", s, false
}

func parseMeta(s string) map[string]string {
	m := map[string]string{}
	for len(s) > 0 {
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '\\' {
					i++
					continue
				}
				if rest[i] == '"' {
					break
				}
			}
			val = rest[1:min(i, len(rest))]
			rest = rest[min(i+1, len(rest)):]
		} else {
			val, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		m[strings.TrimSpace(key)] = val
		rest = strings.TrimPrefix(rest, ",")
		s = rest
	}
	return m
}
