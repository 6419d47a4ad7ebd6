// Package modbus is the scanner's Modbus/TCP grab module: it asks for the
// device identification (function 43, MEI type 14: vendor, product code,
// revision) and nothing else — it never reads or writes registers.
package modbus

import (
	"context"
	"encoding/binary"
	"io"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
)

// Result is what the grab saw.
type Result struct {
	Unit        byte   `json:"unit"`
	Exception   byte   `json:"exception,omitempty"`
	Conformity  byte   `json:"conformity_level,omitempty"`
	Vendor      string `json:"vendor,omitempty"`
	ProductCode string `json:"product_code,omitempty"`
	Revision    string `json:"revision,omitempty"`
	VendorURL   string `json:"vendor_url,omitempty"`
	ProductName string `json:"product_name,omitempty"`
	ModelName   string `json:"model_name,omitempty"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	p := r.ProductName
	if p == "" {
		p = r.ProductCode
	}
	return scan.Facts{Service: "modbus", Vendor: r.Vendor, Product: p, Banner: r.Vendor + " " + r.ProductCode + " " + r.Revision}
}

// Module is the Modbus grabber.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "modbus" }
func (Module) Protocol() string    { return "modbus" }
func (Module) Transport() string   { return "tcp" }
func (Module) DefaultPort() uint16 { return 502 }

const maxRounds = 4

// Scan reads the basic identification objects, following "more follows".
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	conn, err := t.Dial(ctx, "tcp")
	if err != nil {
		return scan.StatusFromError(err), nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	conn.SetDeadline(deadline)
	res := &Result{}
	objs := map[byte]string{}
	next := byte(0)
	for round := range maxRounds {
		txid := uint16(0x4b53 + round)
		if _, err := conn.Write(Request(txid, 0, readBasic, next)); err != nil {
			return scan.StatusFromError(err), nil, err
		}
		hdr := make([]byte, 6)
		if _, err := io.ReadFull(conn, hdr); err != nil {
			return scan.StatusFromError(err), nil, err
		}
		n := int(binary.BigEndian.Uint16(hdr[4:]))
		if n < 2 || n > maxPDU+1 {
			return scan.StatusProtocolError, nil, scan.ProtocolError("modbus: bad length %d", n)
		}
		frame := make([]byte, 6+n)
		copy(frame, hdr)
		if _, err := io.ReadFull(conn, frame[6:]); err != nil {
			return scan.StatusFromError(err), nil, err
		}
		r, _, err := ParseResponse(frame)
		if err != nil {
			return scan.StatusProtocolError, nil, err
		}
		res.Unit = r.Unit
		if r.Exception != 0 {
			// An exception is still a Modbus device answering.
			res.Exception = r.Exception
			break
		}
		res.Conformity = r.Conformity
		for k, v := range r.Objects {
			objs[k] = v
		}
		if !r.MoreFollows || r.NextObject <= next {
			break
		}
		next = r.NextObject
	}
	res.Vendor, res.ProductCode, res.Revision = objs[0], objs[1], objs[2]
	res.VendorURL, res.ProductName, res.ModelName = objs[3], objs[4], objs[5]
	return scan.StatusSuccess, res, nil
}
