package eth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Arguments are decoded into go-ethereum's own types (common.Address,
// hexutil.Big, …) or into copies of its rpc types, so that a malformed
// argument gets the error text a real node gives.

// parseArgs decodes positional params into the values newArgs returns,
// with the checks and messages of go-ethereum's parsePositionalArguments.
// A nil pointer in args is optional; anything else is required.
func parseArgs(raw json.RawMessage, args []any) *rpcError {
	var elems []json.RawMessage
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0 || string(trimmed) == "null":
	case trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return errInvalidParams("%v", err)
		}
	default:
		return errInvalidParams("non-array args")
	}
	for i, elem := range elems {
		if i >= len(args) {
			return errInvalidParams("too many arguments, want at most %d", len(args))
		}
		opt := optional(args[i])
		if !opt && string(bytes.TrimSpace(elem)) == "null" {
			return errInvalidParams("missing value for required argument %d", i)
		}
		if err := decodeArg(elem, args[i]); err != nil {
			return errInvalidParams("invalid argument %d: %v", i, err)
		}
	}
	for i := len(elems); i < len(args); i++ {
		if !optional(args[i]) {
			return errInvalidParams("missing value for required argument %d", i)
		}
	}
	return nil
}

// opt marks an argument as optional (a pointer in go-ethereum's signature).
type opt[T any] struct {
	v   T
	set bool
}

func (o *opt[T]) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	o.set = true
	return decodeArg(b, &o.v)
}

type optionalArg interface{ isOptional() }

func (*opt[T]) isOptional() {}

func optional(a any) bool { _, ok := a.(optionalArg); return ok }

func decodeArg(elem []byte, arg any) error {
	if u, ok := arg.(json.Unmarshaler); ok && string(bytes.TrimSpace(elem)) != "null" {
		return u.UnmarshalJSON(elem)
	}
	return json.Unmarshal(elem, arg)
}

// Special block numbers, as in go-ethereum's rpc package.
const (
	safeBlock      = blockNumber(-4)
	finalizedBlock = blockNumber(-3)
	latestBlock    = blockNumber(-2)
	pendingBlock   = blockNumber(-1)
	earliestBlock  = blockNumber(0)
)

// blockNumber is go-ethereum's rpc.BlockNumber.
type blockNumber int64

func (bn *blockNumber) UnmarshalJSON(data []byte) error {
	input := strings.TrimSpace(string(data))
	if len(input) >= 2 && input[0] == '"' && input[len(input)-1] == '"' {
		input = input[1 : len(input)-1]
	}
	if b, ok := namedBlock(input); ok {
		*bn = b
		return nil
	}
	n, err := hexutil.DecodeUint64(input)
	if err != nil {
		return err
	}
	if n > math.MaxInt64 {
		return errors.New("block number larger than int64")
	}
	*bn = blockNumber(n)
	return nil
}

func namedBlock(s string) (blockNumber, bool) {
	switch s {
	case "earliest":
		return earliestBlock, true
	case "latest":
		return latestBlock, true
	case "pending":
		return pendingBlock, true
	case "finalized":
		return finalizedBlock, true
	case "safe":
		return safeBlock, true
	}
	return 0, false
}

// blockRef is go-ethereum's rpc.BlockNumberOrHash.
type blockRef struct {
	BlockNumber      *blockNumber `json:"blockNumber,omitempty"`
	BlockHash        *common.Hash `json:"blockHash,omitempty"`
	RequireCanonical bool         `json:"requireCanonical,omitempty"`
}

func (r *blockRef) UnmarshalJSON(data []byte) error {
	type erased blockRef
	e := erased{}
	if err := json.Unmarshal(data, &e); err == nil {
		if e.BlockNumber != nil && e.BlockHash != nil {
			return errors.New("cannot specify both BlockHash and BlockNumber, choose one or the other")
		}
		if e.BlockNumber == nil && e.BlockHash == nil {
			return errors.New("must specify either BlockHash or BlockNumber")
		}
		*r = blockRef(e)
		return nil
	}
	var input string
	if err := json.Unmarshal(data, &input); err != nil {
		return err
	}
	if b, ok := namedBlock(input); ok {
		r.BlockNumber = &b
		return nil
	}
	if len(input) == 66 {
		var h common.Hash
		if err := h.UnmarshalText([]byte(input)); err != nil {
			return err
		}
		r.BlockHash = &h
		return nil
	}
	n, err := hexutil.DecodeUint64(input)
	if err != nil {
		return err
	}
	if n > math.MaxInt64 {
		return errors.New("blocknumber too high")
	}
	b := blockNumber(n)
	r.BlockNumber = &b
	return nil
}

// TransactionArgs is go-ethereum's ethapi.TransactionArgs (the name shows
// in decoding errors, so it is kept).
type TransactionArgs struct {
	From                 *common.Address `json:"from"`
	To                   *common.Address `json:"to"`
	Gas                  *hexutil.Uint64 `json:"gas"`
	GasPrice             *hexutil.Big    `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big    `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big    `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big    `json:"value"`
	Nonce                *hexutil.Uint64 `json:"nonce"`
	Data                 *hexutil.Bytes  `json:"data"`
	Input                *hexutil.Bytes  `json:"input"`
	ChainID              *hexutil.Big    `json:"chainId,omitempty"`
}

func (a *TransactionArgs) data() []byte {
	switch {
	case a.Input != nil:
		return *a.Input
	case a.Data != nil:
		return *a.Data
	}
	return nil
}

// intrinsicGas is the gas a transaction costs before execution (EIP-2028).
func intrinsicGas(data []byte, create bool) uint64 {
	g := uint64(21000)
	if create {
		g = 53000
	}
	for _, b := range data {
		if b == 0 {
			g += 4
		} else {
			g += 16
		}
	}
	return g
}

func (a *TransactionArgs) String() string {
	b, _ := json.Marshal(a)
	return string(b)
}

var _ fmt.Stringer = (*TransactionArgs)(nil)
