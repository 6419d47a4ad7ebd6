package proto

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/netip"
	"strings"
)

func init() {
	register(Protocol{Name: "wsd", Port: 3702, DefaultListen: "127.0.0.1:13702", New: newWSD})
}

// wsdHandler is an ONVIF IP camera's WS-Discovery responder: a Probe gets a
// ProbeMatches naming the camera and its service address.
type wsdHandler struct {
	id     Identity
	model  string
	vendor string
}

func newWSD(id Identity, _ Options) (Handler, error) {
	r := id.Rand("wsd")
	vendors := [][2]string{{"HIKVISION", "DS-2CD2142FWD-I"}, {"Dahua", "IPC-HDW4431C-A"}, {"Uniview", "IPC322LR3-VSPF28-D"}, {"Axis", "M3045-V"}}
	v := vendors[r.IntN(len(vendors))]
	return &wsdHandler{id: id, vendor: v[0], model: v[1]}, nil
}

func (h *wsdHandler) Respond(req []byte, peer Peer) (Reply, error) {
	if len(req) > 8192 {
		return Reply{}, malformed("wsd", "request of %d bytes", len(req))
	}
	var env struct {
		XMLName xml.Name
		Header  struct {
			MessageID string `xml:"MessageID"`
			Action    string `xml:"Action"`
		} `xml:"Header"`
		Body struct {
			Probe *struct {
				Types string `xml:"Types"`
			} `xml:"Probe"`
		} `xml:"Body"`
	}
	d := xml.NewDecoder(bytes.NewReader(req))
	d.Strict = true
	if err := d.Decode(&env); err != nil {
		return Reply{}, malformed("wsd", "xml: %v", err)
	}
	if env.XMLName.Local != "Envelope" || env.Body.Probe == nil {
		return Reply{}, malformed("wsd", "not a Probe envelope")
	}
	types := strings.TrimSpace(env.Body.Probe.Types)
	content := "Probe " + clip(types, 200)
	host := peer.Local.Addr()
	if !host.IsValid() || host.IsUnspecified() {
		host = h.id.LANHost(64)
	}
	var msgID bytes.Buffer
	_ = xml.EscapeText(&msgID, []byte(clip(env.Header.MessageID, 256)))
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:SOAP-ENC="http://www.w3.org/2003/05/soap-encoding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsdd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:chan="http://schemas.microsoft.com/ws/2005/02/duplex" xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:xmime="http://tempuri.org/xmime.xsd" xmlns:xop="http://www.w3.org/2004/08/xop/include" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:wsrfbf="http://docs.oasis-open.org/wsrf/bf-2" xmlns:wstop="http://docs.oasis-open.org/wsn/t-1" xmlns:wsrfr="http://docs.oasis-open.org/wsrf/r-2" xmlns:tdn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">`)
	b.WriteString(`<SOAP-ENV:Header><wsa:MessageID>urn:uuid:` + h.id.UUID + `</wsa:MessageID><wsa:RelatesTo>`)
	b.Write(msgID.Bytes())
	b.WriteString(`</wsa:RelatesTo><wsa:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To><wsa:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>`)
	fmt.Fprintf(&b, `<wsdd:AppSequence InstanceId="%d" MessageNumber="%d"></wsdd:AppSequence></SOAP-ENV:Header>`, h.id.Boot.Unix(), 1+len(req)%97)
	b.WriteString(`<SOAP-ENV:Body><wsdd:ProbeMatches><wsdd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:` + h.id.UUID + `</wsa:Address></wsa:EndpointReference>`)
	b.WriteString(`<wsdd:Types>tdn:NetworkVideoTransmitter tds:Device</wsdd:Types>`)
	name := strings.ReplaceAll(h.model, " ", "%20")
	fmt.Fprintf(&b, `<wsdd:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/Profile/G onvif://www.onvif.org/Profile/T onvif://www.onvif.org/type/ptz onvif://www.onvif.org/MAC/%s onvif://www.onvif.org/hardware/%s onvif://www.onvif.org/name/%s onvif://www.onvif.org/location/city/%s</wsdd:Scopes>`,
		h.id.MACString(), name, h.vendor, h.id.Hostname)
	fmt.Fprintf(&b, `<wsdd:XAddrs>http://%s/onvif/device_service</wsdd:XAddrs><wsdd:MetadataVersion>10</wsdd:MetadataVersion></wsdd:ProbeMatch></wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`, netip.AddrPortFrom(host, 80))
	return Reply{Content: content, Packets: [][]byte{b.Bytes()}}, nil
}
