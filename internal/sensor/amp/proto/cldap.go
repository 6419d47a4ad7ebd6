package proto

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	register(Protocol{Name: "cldap", Port: 389, DefaultListen: "127.0.0.1:10389", New: newCLDAP})
}

// cldapHandler is an Active Directory domain controller's connectionless
// LDAP: a base search of the rootDSE returns its attributes (searchResEntry
// and searchResDone in one datagram), filtered by the requested attribute
// list as AD does.
type cldapHandler struct {
	attrs [][2]any // name, values ([]string)
	now   func() time.Time
}

const (
	ldapSearchRequest = 0x63 // [APPLICATION 3]
	ldapSearchEntry   = 0x64
	ldapSearchDone    = 0x65
)

func newCLDAP(id Identity, o Options) (Handler, error) {
	dc := "DC=" + strings.ReplaceAll(id.Domain, ".", ",DC=")
	host := strings.ToUpper(id.Hostname)
	site := "Default-First-Site-Name"
	cfg := "CN=Configuration," + dc
	ntds := fmt.Sprintf("CN=NTDS Settings,CN=%s,CN=Servers,CN=%s,CN=Sites,%s", host, site, cfg)
	controls := []string{"1.2.840.113556.1.4.319", "1.2.840.113556.1.4.801", "1.2.840.113556.1.4.473", "1.2.840.113556.1.4.528",
		"1.2.840.113556.1.4.417", "1.2.840.113556.1.4.619", "1.2.840.113556.1.4.841", "1.2.840.113556.1.4.529",
		"1.2.840.113556.1.4.805", "1.2.840.113556.1.4.521", "1.2.840.113556.1.4.970", "1.2.840.113556.1.4.1338",
		"1.2.840.113556.1.4.474", "1.2.840.113556.1.4.1339", "1.2.840.113556.1.4.1340", "1.2.840.113556.1.4.1413",
		"2.16.840.1.113730.3.4.9", "2.16.840.1.113730.3.4.10", "1.2.840.113556.1.4.1504", "1.2.840.113556.1.4.1852",
		"1.2.840.113556.1.4.802", "1.2.840.113556.1.4.1907", "1.2.840.113556.1.4.1948", "1.2.840.113556.1.4.1974",
		"1.2.840.113556.1.4.1341", "1.2.840.113556.1.4.2026", "1.2.840.113556.1.4.2064", "1.2.840.113556.1.4.2065",
		"1.2.840.113556.1.4.2066", "1.2.840.113556.1.4.2090", "1.2.840.113556.1.4.2205", "1.2.840.113556.1.4.2204",
		"1.2.840.113556.1.4.2206", "1.2.840.113556.1.4.2211", "1.2.840.113556.1.4.2239", "1.2.840.113556.1.4.2255", "1.2.840.113556.1.4.2256"}
	caps := []string{"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670", "1.2.840.113556.1.4.1791", "1.2.840.113556.1.4.1935",
		"1.2.840.113556.1.4.2080", "1.2.840.113556.1.4.2237"}
	policies := []string{"MaxPoolThreads", "MaxPercentDirSyncRequests", "MaxDatagramRecv", "MaxReceiveBuffer", "InitRecvTimeout",
		"MaxConnections", "MaxConnIdleTime", "MaxPageSize", "MaxBatchReturnMessages", "MaxQueryDuration", "MaxDirSyncDuration",
		"MaxTempTableSize", "MaxResultSetSize", "MinResultSets", "MaxResultSetsPerConn", "MaxNotificationPerConn", "MaxValRange",
		"MaxValRangeTransitive", "ThreadMemoryLimit", "SystemMemoryLimitPercent"}
	r := id.Rand("cldap")
	h := &cldapHandler{now: o.now}
	h.attrs = [][2]any{
		{"currentTime", nil},
		{"subschemaSubentry", []string{"CN=Aggregate,CN=Schema," + cfg}},
		{"dsServiceName", []string{ntds}},
		{"namingContexts", []string{dc, cfg, "CN=Schema," + cfg, "DC=DomainDnsZones," + dc, "DC=ForestDnsZones," + dc}},
		{"defaultNamingContext", []string{dc}},
		{"rootDomainNamingContext", []string{dc}},
		{"configurationNamingContext", []string{cfg}},
		{"schemaNamingContext", []string{"CN=Schema," + cfg}},
		{"serverName", []string{fmt.Sprintf("CN=%s,CN=Servers,CN=%s,CN=Sites,%s", host, site, cfg)}},
		{"supportedControl", controls},
		{"supportedLDAPVersion", []string{"3", "2"}},
		{"supportedLDAPPolicies", policies},
		{"highestCommittedUSN", []string{fmt.Sprint(100000 + r.IntN(9000000))}},
		{"supportedSASLMechanisms", []string{"GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"}},
		{"dnsHostName", []string{strings.ToLower(id.FQDN())}},
		{"ldapServiceName", []string{fmt.Sprintf("%s:%s$@%s", id.Domain, strings.ToLower(id.Hostname), strings.ToUpper(id.Domain))}},
		{"supportedCapabilities", caps},
		{"isSynchronized", []string{"TRUE"}},
		{"isGlobalCatalogReady", []string{"TRUE"}},
		{"domainFunctionality", []string{"7"}},
		{"forestFunctionality", []string{"7"}},
		{"domainControllerFunctionality", []string{"7"}},
	}
	return h, nil
}

func (h *cldapHandler) Respond(req []byte, _ Peer) (Reply, error) {
	msg, _, err := expect(req, tagSeq)
	if err != nil {
		return Reply{}, malformed("cldap", "message: %v", err)
	}
	idt, rest, err := expect(msg.Value, tagInt)
	if err != nil {
		return Reply{}, malformed("cldap", "message id: %v", err)
	}
	msgID, err := parseInt(idt.Value)
	if err != nil {
		return Reply{}, malformed("cldap", "message id: %v", err)
	}
	op, _, err := readTLV(rest)
	if err != nil {
		return Reply{}, malformed("cldap", "operation: %v", err)
	}
	if op.Tag != ldapSearchRequest {
		return Reply{}, malformed("cldap", "operation 0x%02x is not a search", op.Tag)
	}
	base, rest, err := expect(op.Value, tagOctets)
	if err != nil {
		return Reply{}, malformed("cldap", "base: %v", err)
	}
	var scope int64 = -1
	for i, tag := range []byte{0x0a, 0x0a, tagInt, tagInt, 0x01} {
		var t tlv
		if t, rest, err = expect(rest, tag); err != nil {
			return Reply{}, malformed("cldap", "search field %d: %v", i, err)
		}
		if i == 0 {
			if scope, err = parseInt(t.Value); err != nil {
				return Reply{}, malformed("cldap", "scope: %v", err)
			}
		}
	}
	filter, rest, err := readTLV(rest)
	if err != nil || filter.Tag&0xc0 != 0x80 {
		return Reply{}, malformed("cldap", "filter")
	}
	attrSeq, _, err := expect(rest, tagSeq)
	if err != nil {
		return Reply{}, malformed("cldap", "attributes: %v", err)
	}
	var want []string
	for rest = attrSeq.Value; len(rest) > 0; {
		var a tlv
		if a, rest, err = expect(rest, tagOctets); err != nil {
			return Reply{}, malformed("cldap", "attribute: %v", err)
		}
		if len(want) == 64 {
			return Reply{}, malformed("cldap", "more than 64 attributes")
		}
		want = append(want, string(a.Value))
	}
	content := fmt.Sprintf("search base=%q scope=%d attrs=%s", clip(string(base.Value), 100), scope, clip(strings.Join(want, ","), 100))
	done := func(code int64) []byte {
		return seq(tagSeq, encInt(tagInt, msgID), seq(ldapSearchDone, encInt(0x0a, code), encStr(tagOctets, ""), encStr(tagOctets, "")))
	}
	if len(base.Value) != 0 || scope != 0 {
		// Only the rootDSE is readable without binding.
		return Reply{Content: content, Packets: [][]byte{done(1)}}, nil
	}
	all := len(want) == 0
	sel := map[string]bool{}
	for _, w := range want {
		if w == "*" {
			all = true
		}
		sel[strings.ToLower(w)] = true
	}
	var parts [][]byte
	for _, a := range h.attrs {
		name := a[0].(string)
		if !all && !sel[strings.ToLower(name)] {
			continue
		}
		vals, _ := a[1].([]string)
		if name == "currentTime" {
			vals = []string{h.now().Format("20060102150405.0Z")}
		}
		var vs [][]byte
		for _, v := range vals {
			vs = append(vs, encStr(tagOctets, v))
		}
		parts = append(parts, seq(tagSeq, encStr(tagOctets, name), seq(0x31, vs...)))
	}
	entry := seq(tagSeq, encInt(tagInt, msgID), seq(ldapSearchEntry, encStr(tagOctets, ""), seq(tagSeq, parts...)))
	out := append(entry, done(0)...)
	return Reply{Content: content, Packets: [][]byte{out}}, nil
}
