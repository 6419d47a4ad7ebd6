package eth

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// call is one JSON-RPC call being answered, with what to record of it.
type call struct {
	n   *node
	src *source
	msg *message
	rec *record
}

// method is one RPC method of the decoy node.
type method struct {
	// args returns fresh argument holders in go-ethereum's order; a
	// *opt[T] is optional.
	args func() []any
	fn   func(c *call, args []any) (any, *rpcError)
	// legacy methods exist only before Geth 1.14 (personal API, ethash).
	legacy bool
}

// Errors of go-ethereum's keystore and account manager, word for word.
var (
	errDecrypt        = errDefault("could not decrypt key with given password")
	errNoKey          = errDefault("no key for given address or file")
	errLocked         = errDefault("authentication needed: password or unlock")
	errUnknownAccount = errDefault("unknown account")
)

func noArgs() []any { return nil }

func lookup(name string) (method, bool) {
	m, ok := methods[name]
	return m, ok
}

var methods map[string]method

func init() {
	hexU := func(v uint64) any { return hexutil.Uint64(v) }
	methods = map[string]method{
		"web3_clientVersion": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.cfg.ClientVersion, nil }},
		"web3_sha3": {args: func() []any { return []any{new(hexutil.Bytes)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return hexutil.Bytes(crypto.Keccak256(*a[0].(*hexutil.Bytes))), nil
		}},
		"net_version":   {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.networkIDStr, nil }},
		"net_listening": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return true, nil }},
		"net_peerCount": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return hexutil.Uint(len(c.n.peers)), nil }},
		"eth_chainId":   {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return json.RawMessage(`"` + c.n.chainIDHex + `"`), nil }},
		"eth_syncing":   {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return false, nil }},
		"eth_blockNumber": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) {
			return hexU(c.n.head()), nil
		}},
		"eth_gasPrice": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) {
			p := c.n.baseFee(c.n.head())
			return (*hexutil.Big)(p.Add(p, big.NewInt(1e8))), nil
		}},
		"eth_maxPriorityFeePerGas": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return (*hexutil.Big)(big.NewInt(1e8)), nil }},
		"eth_getBlockByNumber": {args: func() []any { return []any{new(blockNumber), new(bool)} }, fn: func(c *call, a []any) (any, *rpcError) {
			num, ok := c.n.resolve(*a[0].(*blockNumber))
			if !ok {
				return nil, nil
			}
			return c.n.block(num), nil
		}},
		"eth_getBlockByHash": {args: func() []any { return []any{new(common.Hash), new(bool)} }, fn: func(c *call, a []any) (any, *rpcError) {
			h := *a[0].(*common.Hash)
			head := c.n.head()
			// Recent blocks are findable by hash; anything else is unknown.
			for num := head; num+256 > head && num > 0; num-- {
				if c.n.blockHash(num) == h {
					return c.n.block(num), nil
				}
			}
			return nil, nil
		}},
		"eth_getBlockTransactionCountByNumber": {args: func() []any { return []any{new(blockNumber)} }, fn: func(c *call, a []any) (any, *rpcError) {
			if _, ok := c.n.resolve(*a[0].(*blockNumber)); !ok {
				return nil, nil
			}
			return hexutil.Uint(0), nil
		}},
		"eth_accounts":          {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.addresses(), nil }},
		"personal_listAccounts": {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.addresses(), nil }},
		"personal_listWallets":  {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.wallets(), nil }},
		"eth_getBalance": {args: func() []any { return []any{new(common.Address), new(blockRef)} }, fn: func(c *call, a []any) (any, *rpcError) {
			addr := *a[0].(*common.Address)
			c.rec.account(addr)
			return (*hexutil.Big)(c.n.balance(addr)), nil
		}},
		"eth_getTransactionCount": {args: func() []any { return []any{new(common.Address), new(blockRef)} }, fn: func(c *call, a []any) (any, *rpcError) {
			addr := *a[0].(*common.Address)
			c.rec.account(addr)
			return hexU(c.n.nonce(addr)), nil
		}},
		"eth_getCode": {args: func() []any { return []any{new(common.Address), new(blockRef)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return hexutil.Bytes{}, nil
		}},
		"eth_getStorageAt": {args: func() []any { return []any{new(common.Address), new(string), new(blockRef)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return hexutil.Bytes(common.Hash{}.Bytes()), nil
		}},
		"eth_getTransactionByHash":  {args: func() []any { return []any{new(common.Hash)} }, fn: func(c *call, a []any) (any, *rpcError) { return nil, nil }},
		"eth_getTransactionReceipt": {args: func() []any { return []any{new(common.Hash)} }, fn: func(c *call, a []any) (any, *rpcError) { return nil, nil }},
		"eth_estimateGas": {args: func() []any { return []any{new(TransactionArgs), new(opt[blockRef])} }, fn: func(c *call, a []any) (any, *rpcError) {
			tx := a[0].(*TransactionArgs)
			c.rec.tx(tx)
			if tx.From != nil && tx.Value != nil && tx.Value.ToInt().Cmp(c.n.balance(*tx.From)) > 0 {
				return nil, errDefault("insufficient funds for transfer")
			}
			return hexU(intrinsicGas(tx.data(), tx.To == nil)), nil
		}},
		"eth_call": {args: func() []any { return []any{new(TransactionArgs), new(opt[blockRef])} }, fn: func(c *call, a []any) (any, *rpcError) {
			c.rec.tx(a[0].(*TransactionArgs))
			return hexutil.Bytes{}, nil
		}},

		// Account theft: everything that signs or sends fails like a locked keystore.
		"personal_unlockAccount": {legacy: true, args: func() []any { return []any{new(common.Address), new(string), new(opt[uint64])} }, fn: func(c *call, a []any) (any, *rpcError) {
			addr := *a[0].(*common.Address)
			c.rec.account(addr)
			c.rec.password(*a[1].(*string))
			if c.n.byAddr[addr] == nil {
				return nil, errNoKey
			}
			return nil, errDecrypt
		}},
		"personal_lockAccount": {legacy: true, args: func() []any { return []any{new(common.Address)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return c.n.byAddr[*a[0].(*common.Address)] != nil, nil
		}},
		"personal_newAccount": {legacy: true, args: func() []any { return []any{new(string)} }, fn: func(c *call, a []any) (any, *rpcError) {
			pw := *a[0].(*string)
			c.rec.password(pw)
			return common.BytesToAddress(crypto.Keccak256(c.n.seed, []byte("newaccount"), []byte(pw))[12:]), nil
		}},
		"personal_importRawKey": {legacy: true, args: func() []any { return []any{new(string), new(string)} }, fn: func(c *call, a []any) (any, *rpcError) {
			c.rec.password(*a[1].(*string))
			key, err := crypto.HexToECDSA(*a[0].(*string))
			if err != nil {
				return nil, errDefault(err.Error())
			}
			return crypto.PubkeyToAddress(key.PublicKey), nil
		}},
		"personal_sendTransaction": {legacy: true, args: func() []any { return []any{new(TransactionArgs), new(string)} }, fn: func(c *call, a []any) (any, *rpcError) {
			tx := a[0].(*TransactionArgs)
			c.rec.tx(tx)
			c.rec.password(*a[1].(*string))
			return nil, c.n.signWithPassword(tx.From)
		}},
		"personal_signTransaction": {legacy: true, args: func() []any { return []any{new(TransactionArgs), new(string)} }, fn: func(c *call, a []any) (any, *rpcError) {
			tx := a[0].(*TransactionArgs)
			c.rec.tx(tx)
			c.rec.password(*a[1].(*string))
			return nil, c.n.signWithPassword(tx.From)
		}},
		"personal_sign": {legacy: true, args: func() []any { return []any{new(hexutil.Bytes), new(common.Address), new(string)} }, fn: func(c *call, a []any) (any, *rpcError) {
			addr := *a[1].(*common.Address)
			c.rec.account(addr)
			c.rec.password(*a[2].(*string))
			return nil, c.n.signWithPassword(&addr)
		}},
		"eth_sendTransaction": {args: func() []any { return []any{new(TransactionArgs)} }, fn: func(c *call, a []any) (any, *rpcError) {
			tx := a[0].(*TransactionArgs)
			c.rec.tx(tx)
			return nil, c.n.signLocked(tx.From)
		}},
		"eth_signTransaction": {args: func() []any { return []any{new(TransactionArgs)} }, fn: func(c *call, a []any) (any, *rpcError) {
			tx := a[0].(*TransactionArgs)
			c.rec.tx(tx)
			if tx.Gas == nil {
				return nil, errDefault("gas not specified")
			}
			return nil, c.n.signLocked(tx.From)
		}},
		"eth_sign": {args: func() []any { return []any{new(common.Address), new(hexutil.Bytes)} }, fn: func(c *call, a []any) (any, *rpcError) {
			addr := *a[0].(*common.Address)
			c.rec.account(addr)
			return nil, c.n.signLocked(&addr)
		}},
		"eth_sendRawTransaction": {args: func() []any { return []any{new(hexutil.Bytes)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return c.n.sendRaw(c, *a[0].(*hexutil.Bytes))
		}},

		// Mining (ethash, before 1.14) and the etherbase.
		"eth_coinbase": {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.src.etherbase(c.n.coinbase), nil }},
		"eth_mining":   {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.src.mining(), nil }},
		"eth_hashrate": {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return hexutil.Uint64(0), nil }},
		"eth_getWork": {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) {
			return nil, errDefault("no mining work available yet")
		}},
		"eth_submitWork": {legacy: true, args: func() []any { return []any{new(types.BlockNonce), new(common.Hash), new(common.Hash)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return false, nil
		}},
		"eth_submitHashrate": {legacy: true, args: func() []any { return []any{new(hexutil.Uint64), new(common.Hash)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return true, nil
		}},
		"miner_start": {legacy: true, args: func() []any { return []any{new(opt[int])} }, fn: func(c *call, _ []any) (any, *rpcError) {
			c.src.setMining(true)
			return nil, nil
		}},
		"miner_stop": {legacy: true, args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) {
			c.src.setMining(false)
			return nil, nil
		}},
		"miner_setEtherbase": {legacy: true, args: func() []any { return []any{new(common.Address)} }, fn: func(c *call, a []any) (any, *rpcError) {
			addr := *a[0].(*common.Address)
			c.rec.etherbase(addr)
			c.src.setEtherbase(addr)
			return true, nil
		}},
		"miner_setExtra":    {legacy: true, args: func() []any { return []any{new(string)} }, fn: func(c *call, _ []any) (any, *rpcError) { return true, nil }},
		"miner_setGasPrice": {legacy: true, args: func() []any { return []any{new(hexutil.Big)} }, fn: func(c *call, _ []any) (any, *rpcError) { return true, nil }},

		// Peers: what an eclipse attack injects.
		"admin_addPeer":           {args: func() []any { return []any{new(string)} }, fn: addPeer},
		"admin_addTrustedPeer":    {args: func() []any { return []any{new(string)} }, fn: addPeer},
		"admin_removePeer":        {args: func() []any { return []any{new(string)} }, fn: removePeer},
		"admin_removeTrustedPeer": {args: func() []any { return []any{new(string)} }, fn: removePeer},
		"admin_peers":             {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.peerInfos(), nil }},
		"admin_nodeInfo":          {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return c.n.nodeInfo(), nil }},
		"admin_datadir":           {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return "/root/.ethereum", nil }},

		"txpool_status": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) {
			return map[string]hexutil.Uint{"pending": 0, "queued": 0}, nil
		}},
		"txpool_content":     {args: noArgs, fn: emptyPool},
		"txpool_inspect":     {args: noArgs, fn: emptyPool},
		"txpool_contentFrom": {args: func() []any { return []any{new(common.Address)} }, fn: emptyPool},

		"debug_traceTransaction": {args: func() []any { return []any{new(common.Hash), new(opt[json.RawMessage])} }, fn: func(c *call, a []any) (any, *rpcError) {
			return nil, errDefault("transaction " + a[0].(*common.Hash).Hex() + " not found")
		}},
		"debug_getBadBlocks": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) { return []any{}, nil }},
		"debug_setHead":      {args: func() []any { return []any{new(hexutil.Uint64)} }, fn: func(c *call, _ []any) (any, *rpcError) { return nil, nil }},
		"debug_getRawHeader": {args: func() []any { return []any{new(blockRef)} }, fn: func(c *call, a []any) (any, *rpcError) {
			return nil, errDefault("header not found")
		}},
		"debug_chaindbProperty": {args: func() []any { return []any{new(string)} }, fn: func(c *call, _ []any) (any, *rpcError) { return "", nil }},
		"debug_verbosity":       {args: func() []any { return []any{new(int)} }, fn: func(c *call, _ []any) (any, *rpcError) { return nil, nil }},

		"rpc_modules": {args: noArgs, fn: func(c *call, _ []any) (any, *rpcError) {
			out := map[string]string{}
			for ns := range c.n.apis {
				out[ns] = "1.0"
			}
			return out, nil
		}},
	}
}

func emptyPool(c *call, _ []any) (any, *rpcError) {
	return map[string]map[string]any{"pending": {}, "queued": {}}, nil
}

// signLocked is what the keystore answers to a signing request without a
// password: a known account is locked, an unknown one is unknown.
func (n *node) signLocked(from *common.Address) *rpcError {
	if from == nil || n.byAddr[*from] == nil {
		return errUnknownAccount
	}
	return errLocked
}

// signWithPassword is signLocked with a password that never decrypts.
func (n *node) signWithPassword(from *common.Address) *rpcError {
	if from == nil || n.byAddr[*from] == nil {
		return errUnknownAccount
	}
	return errDecrypt
}

func addPeer(c *call, a []any) (any, *rpcError) {
	raw := *a[0].(*string)
	c.rec.enode(raw)
	if _, _, err := parseEnode(raw); err != nil {
		return nil, errDefault("invalid enode: " + err.Error())
	}
	return true, nil
}

func removePeer(c *call, a []any) (any, *rpcError) {
	raw := *a[0].(*string)
	c.rec.enode(raw)
	if _, _, err := parseEnode(raw); err != nil {
		return nil, errDefault("invalid enode: " + err.Error())
	}
	return true, nil
}

// parseEnode checks an enode URL as go-ethereum's enode.ParseV4 does for
// the common mistakes and returns the node's public key and host.
func parseEnode(raw string) (pub, host string, err error) {
	if !strings.HasPrefix(raw, "enode://") {
		return "", "", fmt.Errorf("invalid URL scheme, want \"enode\"")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", err
	}
	if u.User == nil {
		return "", "", fmt.Errorf("does not contain node ID")
	}
	id := u.User.String()
	if b, err := hexutil.Decode("0x" + id); err != nil || len(b) != 64 {
		return "", "", fmt.Errorf("invalid public key (wrong length, want 128 hex chars)")
	}
	h := u.Hostname()
	if net.ParseIP(h) == nil {
		return "", "", fmt.Errorf("invalid IP address")
	}
	if p := u.Port(); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return "", "", fmt.Errorf("invalid port")
		}
	}
	return id, h, nil
}
