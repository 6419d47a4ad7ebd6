package analysis

import (
	"fmt"
	"slices"
	"strings"
)

// Severities, lowest first.
const (
	SeverityInfo   = "info"
	SeverityLow    = "low"
	SeverityMedium = "medium"
	SeverityHigh   = "high"
)

// Verdict summarises a report for lists, alerts and feeds.
type Verdict struct {
	// Family is the best family name ("mirai", "gafgyt", …), empty when
	// nothing identified one; Families lists every candidate.
	Family   string   `json:"family,omitempty"`
	Families []string `json:"families,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Severity string   `json:"severity"`
	Reasons  []string `json:"reasons,omitempty"`
}

// familyRank orders families when several rules match: a specific family
// beats the generic dropper/heuristic ones.
var familyRank = map[string]int{
	"vpnfilter": 10, "mozi": 9, "hajime": 9, "hidenseek": 8, "tsunami": 8, "qsnatch": 8,
	"mirai": 7, "gafgyt": 6, "dropper": 1,
}

// Judge derives the verdict from the static report. Families come from
// YARA rule metadata (meta family) and from a decoded Mirai table.
func Judge(st *StaticReport) Verdict {
	v := Verdict{Severity: SeverityInfo}
	fams := map[string]bool{}
	for _, m := range st.Yara.Matches {
		if f := strings.ToLower(m.Meta["family"]); f != "" {
			fams[f] = true
		}
		v.Reasons = append(v.Reasons, "yara: "+m.Rule)
		for _, t := range m.Tags {
			v.Tags = append(v.Tags, strings.ToLower(t))
		}
	}
	if st.MiraiTable != nil {
		fams["mirai"] = true
		v.Tags = append(v.Tags, "xor-table")
		v.Reasons = append(v.Reasons, fmt.Sprintf("mirai string table, key %#02x", st.MiraiTable.Key))
	}
	for f := range fams {
		v.Families = append(v.Families, f)
	}
	slices.SortFunc(v.Families, func(a, b string) int {
		if d := familyRank[b] - familyRank[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	if len(v.Families) > 0 {
		v.Family = v.Families[0]
		if v.Family == "dropper" && len(v.Families) > 1 {
			v.Family = v.Families[1]
		}
	}
	if p := st.Packer; p != nil {
		v.Tags = append(v.Tags, "packer:"+strings.ToLower(p.Name))
		if p.Damaged {
			v.Tags = append(v.Tags, "upx-damaged")
			v.Reasons = append(v.Reasons, "packer headers tampered with")
		}
	}
	if e := st.ELF; e != nil {
		if e.Arch != "" {
			v.Tags = append(v.Tags, "arch:"+e.Arch)
		}
		if e.Static {
			v.Tags = append(v.Tags, "static")
		}
		if e.Stripped {
			v.Tags = append(v.Tags, "stripped")
		}
		if len(e.Anomalies) > 0 {
			v.Tags = append(v.Tags, "elf-anomaly")
		}
	}
	if st.FileType == TypeShell {
		v.Tags = append(v.Tags, "script")
	}
	iocs := len(st.IOCs.URLs) + len(st.IOCs.IPs) + len(st.IOCs.Credentials)
	switch {
	case v.Family != "":
		v.Severity = SeverityHigh
	case st.Packer != nil && st.Packer.Damaged, len(st.IOCs.Credentials) >= 3,
		st.FileType == TypeShell && len(st.IOCs.URLs) > 0 && len(st.IOCs.Commands) > 0:
		v.Severity = SeverityMedium
	case iocs > 0 || st.Packer != nil:
		v.Severity = SeverityLow
	}
	slices.Sort(v.Tags)
	v.Tags = slices.Compact(v.Tags)
	return v
}
