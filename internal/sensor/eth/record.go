package eth

import (
	"net/netip"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/kansoku/kansoku/internal/event"
)

// record gathers what one call reveals about the attacker's intent; its
// fields go into the call's rpc.call event (docs/events.md).
type record struct{ e *event.Event }

func (r *record) set(k string, v any) {
	if r != nil && r.e != nil {
		r.e.Set(k, v)
	}
}

func (r *record) text(k, v string) {
	if r != nil && r.e != nil {
		r.e.SetText(k, v)
	}
}

// addr is how addresses are recorded: lowercase hex, one spelling per
// wallet so that campaigns and feeds group them.
func addr(a common.Address) string { return strings.ToLower(a.Hex()) }

func (r *record) account(a common.Address) { r.set("account", addr(a)) }
func (r *record) password(pw string)       { r.text("password", pw) }
func (r *record) etherbase(a common.Address) {
	r.set("etherbase", addr(a))
	r.set("destination", addr(a))
}

func (r *record) enode(raw string) {
	r.text("enode", raw)
	if _, host, err := parseEnode(raw); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil {
			r.set("enode_ip", ip.Unmap().String())
		}
	}
}

// tx records the fields of a transaction the attacker asks us to sign.
func (r *record) tx(a *TransactionArgs) {
	if a.From != nil {
		r.set("from", addr(*a.From))
		r.set("account", addr(*a.From))
	}
	if a.To != nil {
		r.set("to", addr(*a.To))
		r.set("destination", addr(*a.To))
	}
	if a.Value != nil {
		r.set("value", a.Value.ToInt().String())
	}
	if a.Gas != nil {
		r.set("gas", uint64(*a.Gas))
	}
	switch {
	case a.GasPrice != nil:
		r.set("gas_price", a.GasPrice.ToInt().String())
	case a.MaxFeePerGas != nil:
		r.set("gas_price", a.MaxFeePerGas.ToInt().String())
	}
	if d := a.data(); len(d) > 0 {
		r.set("data_len", len(d))
	}
}

// rawTx records a signed transaction decoded by go-ethereum.
func (r *record) rawTx(tx *types.Transaction, from common.Address, senderErr error) {
	r.set("tx_hash", tx.Hash().Hex())
	r.set("tx_type", int(tx.Type()))
	r.set("nonce", tx.Nonce())
	r.set("gas", tx.Gas())
	r.set("gas_price", tx.GasFeeCap().String())
	r.set("value", tx.Value().String())
	if id := tx.ChainId(); id != nil && id.Sign() > 0 {
		r.set("chain_id", id.String())
	}
	if to := tx.To(); to != nil {
		r.set("to", addr(*to))
		r.set("destination", addr(*to))
	}
	if senderErr == nil {
		r.set("from", addr(from))
	}
	if len(tx.Data()) > 0 {
		r.set("data_len", len(tx.Data()))
	}
}

// source is what the node remembers about one client address between
// calls, so that an attacker who changes the etherbase reads it back.
type source struct {
	mu   sync.Mutex
	base *common.Address
	mine bool
}

func (s *source) etherbase(def common.Address) common.Address {
	if s == nil {
		return def
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base != nil {
		return *s.base
	}
	return def
}

func (s *source) setEtherbase(a common.Address) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.base = &a
	s.mu.Unlock()
}

func (s *source) mining() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mine
}

func (s *source) setMining(on bool) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.mine = on
	s.mu.Unlock()
}

// maxSources bounds the per-source memory; past it the oldest is dropped.
const maxSources = 4096

type sources struct {
	mu    sync.Mutex
	m     map[netip.Addr]*source
	order []netip.Addr
}

func (ss *sources) get(ip netip.Addr) *source {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s := ss.m[ip]; s != nil {
		return s
	}
	if ss.m == nil {
		ss.m = map[netip.Addr]*source{}
	}
	if len(ss.order) >= maxSources {
		delete(ss.m, ss.order[0])
		ss.order = ss.order[1:]
	}
	s := new(source)
	ss.m[ip] = s
	ss.order = append(ss.order, ip)
	return s
}
