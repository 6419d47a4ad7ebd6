// Package analysis is kansoku's static malware analysis: given the bytes of a
// captured sample it reports what the file is (ELF header, architecture,
// packer), how to find its relatives (cryptographic and TLSH similarity
// hashes), what it talks to (IPs, domains, URLs, credentials, shell
// commands, Mirai's XOR-encoded string table) and which family it belongs to
// (YARA rules shipped with the package, run by the real yara tool).
//
// The sample is never executed here; that is the sandbox's job. Report is
// the document stored per sample and printed by `kansoku analyze`; the
// sandbox fills its Dynamic part.
package analysis

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kansoku/kansoku/internal/analysis/ssdeep"
	"github.com/kansoku/kansoku/internal/analysis/tlsh"
	"github.com/kansoku/kansoku/internal/intel"
)

// ReportVersion is the version of the Report layout; bump it when a field
// changes meaning so stored reports can be told apart.
const ReportVersion = 1

// Defaults for Options.
const (
	DefaultMaxStrings = 2000
	DefaultMaxSize    = 64 << 20
	DefaultYaraPath   = "yara"
	DefaultYaraTime   = 60 * time.Second
)

// ErrTooLarge is returned by Static for input over Options.MaxSize.
var ErrTooLarge = errors.New("analysis: sample too large")

// Options configures Static. The zero value is usable.
type Options struct {
	// YaraPath is the yara binary (config key analysis.yara_path); empty
	// means "yara" from PATH.
	YaraPath string
	// Rules are extra directories of .yar/.yara files run alongside the
	// embedded rules (config key analysis.rules).
	Rules []string
	// MaxStrings bounds the printable strings kept in the report.
	MaxStrings int
	// MaxSize refuses larger samples (default 64 MiB).
	MaxSize int
	// YaraTimeout bounds one yara run (default 60 s).
	YaraTimeout time.Duration
	Logger      *slog.Logger
}

func (o *Options) defaults() {
	if o.YaraPath == "" {
		o.YaraPath = DefaultYaraPath
	}
	if o.MaxStrings <= 0 {
		o.MaxStrings = DefaultMaxStrings
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.YaraTimeout <= 0 {
		o.YaraTimeout = DefaultYaraTime
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// File types reported in StaticReport.FileType.
const (
	TypeELF   = "elf"
	TypeShell = "shell"
	TypeOther = "other"
)

// Hashes identify a sample exactly (MD5 … SHA-512) and by similarity
// (TLSH, ssdeep).
type Hashes struct {
	MD5    string `json:"md5"`
	SHA1   string `json:"sha1"`
	SHA256 string `json:"sha256"`
	SHA512 string `json:"sha512"`
	// TLSH is the T1 digest; empty when the input is too short or too
	// uniform, with the reason in TLSHError.
	TLSH      string `json:"tlsh,omitempty"`
	TLSHError string `json:"tlsh_error,omitempty"`
	// SSDEEP is the ssdeep (CTPH) digest, as MalwareBazaar publishes it.
	SSDEEP string `json:"ssdeep"`
}

// StaticReport is everything learnt without running the sample.
type StaticReport struct {
	FileType string  `json:"file_type"`
	Size     int     `json:"size"`
	Hashes   Hashes  `json:"hashes"`
	Entropy  float64 `json:"entropy"`
	// Interpreter is the #! line's program for scripts.
	Interpreter string      `json:"interpreter,omitempty"`
	ELF         *ELFInfo    `json:"elf,omitempty"`
	Packer      *PackerInfo `json:"packer,omitempty"`
	Strings     []string    `json:"strings,omitempty"`
	// StringsTruncated is set when MaxStrings cut the list.
	StringsTruncated bool        `json:"strings_truncated,omitempty"`
	IOCs             IOCs        `json:"iocs"`
	MiraiTable       *MiraiTable `json:"mirai_table,omitempty"`
	// CredentialTable is the brute-force table decoded from the sample
	// (Mirai's XOR scanner table or BASHLITE's arrays); its pairs are
	// also IOCs.Credentials.
	CredentialTable *CredentialTable `json:"credential_table,omitempty"`
	Yara            YaraResult       `json:"yara"`
	// Errors are steps that failed without stopping the analysis, e.g.
	// "yara: not installed".
	Errors []string `json:"errors,omitempty"`
}

// Report is the full analysis report stored per sample.
type Report struct {
	Version int           `json:"version"`
	SHA256  string        `json:"sha256"`
	Static  *StaticReport `json:"static"`
	// Dynamic is the sandbox's report, opaque to this package.
	Dynamic json.RawMessage `json:"dynamic,omitempty"`
	Verdict Verdict         `json:"verdict"`
	// Indicators are the C2s and URLs this sample yields, with how each
	// was learned, the decoys it contacted and what was withheld as a
	// well-known service (intel.Select, filled by the worker).
	Indicators *intel.Selection `json:"indicators,omitempty"`
	Started    time.Time        `json:"started"`
	Finished   time.Time        `json:"finished"`
}

// Analyze runs Static and wraps it in a Report with a verdict; the caller
// adds Dynamic later (and may call Judge again).
func Analyze(ctx context.Context, data []byte, opts Options) (*Report, error) {
	started := time.Now().UTC()
	st, err := Static(ctx, data, opts)
	if err != nil {
		return nil, err
	}
	return &Report{
		Version:  ReportVersion,
		SHA256:   st.Hashes.SHA256,
		Static:   st,
		Verdict:  Judge(st),
		Started:  started,
		Finished: time.Now().UTC(),
	}, nil
}

// Static analyses data. It fails only on cancellation or oversize input;
// a step that cannot run (no yara, broken ELF) is recorded in the report.
func Static(ctx context.Context, data []byte, opts Options) (*StaticReport, error) {
	opts.defaults()
	if len(data) > opts.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), opts.MaxSize)
	}
	r := &StaticReport{Size: len(data), Hashes: hashAll(data), Entropy: entropy(data)}
	r.FileType, r.Interpreter = fileType(data)

	if r.FileType == TypeELF {
		r.ELF = parseELF(data)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Packer = detectPacker(data, r.ELF)

	strs := extractStrings(data, opts.MaxStrings)
	r.Strings, r.StringsTruncated = strs.list, strs.truncated
	diff := neighbourXOR(data)
	r.MiraiTable = findMiraiTable(data, diff)
	var decoded []string
	if r.MiraiTable != nil {
		decoded = r.MiraiTable.Strings
	}
	r.CredentialTable = xorCredentials(data, diff)
	if r.CredentialTable == nil {
		r.CredentialTable = bashliteCredentials(data)
	}
	r.IOCs = extractIOCs(strs.all, decoded)
	r.IOCs.addConfig(r.MiraiTable, r.CredentialTable)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	yr, err := runYara(ctx, data, opts)
	r.Yara = yr
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Errors = append(r.Errors, err.Error())
		opts.Logger.Warn("analysis: yara failed", "sha256", r.Hashes.SHA256, "err", err)
	}
	return r, nil
}

func hashAll(data []byte) Hashes {
	m := md5.Sum(data)
	s1 := sha1.Sum(data)
	s256 := sha256.Sum256(data)
	s512 := sha512.Sum512(data)
	h := Hashes{
		MD5:    hex.EncodeToString(m[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		SHA256: hex.EncodeToString(s256[:]),
		SHA512: hex.EncodeToString(s512[:]),
		SSDEEP: ssdeep.Hash(data),
	}
	if d, err := tlsh.Hash(data); err != nil {
		h.TLSHError = err.Error()
	} else {
		h.TLSH = d.String()
	}
	return h
}
