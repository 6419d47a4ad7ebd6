package eth

import (
	"math/big"
	"sort"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// mainnetTD is mainnet's total difficulty, frozen since the merge.
var mainnetTD, _ = new(big.Int).SetString("58750003716598352816469", 10)

// resolve turns a block parameter into a block number the node has.
func (n *node) resolve(b blockNumber) (uint64, bool) {
	head := n.head()
	switch b {
	case latestBlock, pendingBlock:
		return head, true
	case safeBlock:
		return head - 32, true
	case finalizedBlock:
		return head - 64, true
	}
	if b < 0 || uint64(b) > head {
		return 0, false
	}
	return uint64(b), true
}

// block is the JSON of an empty post-merge block as Geth marshals it (a
// map, so the keys come out sorted).
func (n *node) block(num uint64) map[string]any {
	r := n.derive("header", num)
	miner := common.BytesToAddress(n.derive("miner", num%97)[12:])
	gasLimit := uint64(30_000_000)
	b := map[string]any{
		"baseFeePerGas":    (*hexutil.Big)(n.baseFee(num)),
		"difficulty":       (*hexutil.Big)(new(big.Int)),
		"extraData":        hexutil.Bytes(extraData[int(r[0])%len(extraData)]),
		"gasLimit":         hexutil.Uint64(gasLimit),
		"gasUsed":          hexutil.Uint64(0),
		"hash":             n.blockHash(num),
		"logsBloom":        types.Bloom{},
		"miner":            miner,
		"mixHash":          common.BytesToHash(n.derive("randao", num)),
		"nonce":            types.BlockNonce{},
		"number":           (*hexutil.Big)(new(big.Int).SetUint64(num)),
		"parentHash":       n.blockHash(num - 1),
		"receiptsRoot":     types.EmptyReceiptsHash,
		"sha3Uncles":       types.EmptyUncleHash,
		"size":             hexutil.Uint64(0x24d),
		"stateRoot":        common.BytesToHash(n.derive("state", num)),
		"timestamp":        hexutil.Uint64(n.blockTime(num)),
		"transactions":     []any{},
		"transactionsRoot": types.EmptyTxsHash,
		"uncles":           []common.Hash{},
		"withdrawals":      []any{},
		"withdrawalsRoot":  types.EmptyWithdrawalsHash,
	}
	if n.legacy {
		b["totalDifficulty"] = (*hexutil.Big)(mainnetTD)
	}
	if n.cancun {
		b["blobGasUsed"] = hexutil.Uint64(0)
		b["excessBlobGas"] = hexutil.Uint64(0)
		b["parentBeaconBlockRoot"] = common.BytesToHash(n.derive("beacon", num))
	}
	return b
}

// extraData are graffiti strings block builders put in mainnet headers.
var extraData = [][]byte{[]byte("beaverbuild.org"), []byte("Titan (titanbuilder.xyz)"), []byte("rsync-builder.xyz"), []byte("Geth/v1.13.15-stable/linux-amd64/go1.21.6"), {}}

func (n *node) addresses() []common.Address {
	out := make([]common.Address, len(n.accounts))
	for i, a := range n.accounts {
		out[i] = a.addr
	}
	return out
}

type walletAccount struct {
	Address common.Address `json:"address"`
	URL     string         `json:"url"`
}

type wallet struct {
	URL      string          `json:"url"`
	Status   string          `json:"status"`
	Failure  string          `json:"failure,omitempty"`
	Accounts []walletAccount `json:"accounts"`
}

// wallets lists the keystore as personal_listWallets does: one locked
// wallet per key file, sorted by URL.
func (n *node) wallets() []wallet {
	out := make([]wallet, 0, len(n.accounts))
	for i := range n.accounts {
		d := &n.accounts[i]
		u := n.keystoreURL(d)
		out = append(out, wallet{URL: u, Status: "Locked", Accounts: []walletAccount{{d.addr, u}}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

func (n *node) nodeInfo() map[string]any {
	head := n.head()
	eth := map[string]any{"network": n.cfg.NetworkID, "genesis": n.genesis, "head": n.blockHash(head),
		"config": map[string]any{"chainId": n.cfg.ChainID}}
	if n.legacy {
		eth["difficulty"] = mainnetTD
	}
	return map[string]any{
		"id":         n.nodeID,
		"name":       n.cfg.ClientVersion,
		"enode":      n.enode(),
		"ip":         "127.0.0.1",
		"ports":      map[string]int{"discovery": n.cfg.ListenPort, "listener": n.cfg.ListenPort},
		"listenAddr": "[::]:" + strconv.Itoa(n.cfg.ListenPort),
		"protocols":  map[string]any{"eth": eth, "snap": map[string]any{}},
	}
}

// peerInfos is admin_peers. Peers an attacker adds never show up: the
// sensor never dials an address it is given, so none would connect.
func (n *node) peerInfos() []map[string]any {
	out := make([]map[string]any, 0, len(n.peers))
	for _, p := range n.peers {
		out = append(out, map[string]any{
			"enode": "enode://" + p.pub + "@" + p.remote, "id": p.id, "name": p.name,
			"caps": []string{"eth/67", "eth/68", "snap/1"},
			"network": map[string]any{"localAddress": "127.0.0.1:" + strconv.Itoa(n.cfg.ListenPort), "remoteAddress": p.remote,
				"inbound": p.inbound, "trusted": false, "static": false},
			"protocols": map[string]any{"eth": map[string]any{"version": 68}, "snap": map[string]any{"version": 1}},
		})
	}
	return out
}
