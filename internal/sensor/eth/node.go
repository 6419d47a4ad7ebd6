package eth

import (
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// node is the decoy Geth node: its identity, keystore and chain, all drawn
// from the installation's seed and the config so that every answer stays
// consistent across calls, connections and restarts.
type node struct {
	cfg          Config
	seed         []byte
	legacy       bool // before Geth 1.14: personal API and ethash mining
	cancun       bool // 1.13.12 and later serve Cancun header fields
	apis         map[string]bool
	accounts     []decoy
	byAddr       map[common.Address]*decoy
	key          *ecdsa.PrivateKey
	nodeID       string // hex keccak256 of the public key
	pubHex       string // the 64-byte public key in the enode URL
	peers        []peer
	coinbase     common.Address
	genesis      common.Hash
	now          func() time.Time
	chainIDHex   string
	networkIDStr string
}

type decoy struct {
	addr    common.Address
	balance *big.Int
	nonce   uint64
	created time.Time // for the keystore file name
}

type peer struct {
	id, pub, name, remote string
	inbound               bool
}

// mainnetGenesis is the hash admin_nodeInfo reports as genesis on chain 1.
var mainnetGenesis = common.HexToHash("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")

func newNode(cfg Config, seed []byte, now func() time.Time) (*node, error) {
	n := &node{cfg: cfg, seed: seed, now: now, apis: map[string]bool{"rpc": true}, byAddr: map[common.Address]*decoy{}}
	major, minor, err := cfg.version()
	if err != nil {
		return nil, err
	}
	n.legacy = major == 1 && minor < 14
	n.cancun = major > 1 || minor >= 14 || (minor == 13 && patch(cfg.ClientVersion) >= 12)
	for _, a := range cfg.APIs {
		n.apis[a] = true
	}
	n.chainIDHex = fmt.Sprintf("0x%x", cfg.ChainID)
	n.networkIDStr = fmt.Sprintf("%d", cfg.NetworkID)
	n.genesis = mainnetGenesis
	if cfg.ChainID != 1 {
		n.genesis = common.BytesToHash(n.derive("genesis", 0))
	}

	key, err := crypto.ToECDSA(n.derive("nodekey", 0))
	if err != nil {
		return nil, fmt.Errorf("eth: derive node key: %w", err)
	}
	n.key = key
	pub := crypto.FromECDSAPub(&key.PublicKey)[1:]
	n.pubHex = hex.EncodeToString(pub)
	n.nodeID = hex.EncodeToString(crypto.Keccak256(pub))

	if len(cfg.Accounts) == 0 {
		for i := range 3 {
			k, err := crypto.ToECDSA(n.derive("account", uint64(i)))
			if err != nil {
				return nil, fmt.Errorf("eth: derive account: %w", err)
			}
			r := n.derive("balance", uint64(i))
			// Between 200 and ~3,500 ether, with wei-level digits like a
			// real, used account.
			bal := new(big.Int).SetUint64(200 + uint64(binary.BigEndian.Uint16(r[:2]))%3300)
			bal.Mul(bal, big.NewInt(1e18))
			bal.Add(bal, new(big.Int).SetBytes(r[2:10]))
			n.addAccount(crypto.PubkeyToAddress(k.PublicKey), bal, 3+uint64(r[10])%180)
		}
	} else {
		for _, a := range cfg.Accounts {
			wei, _ := etherToWei(a.Balance)
			n.addAccount(common.HexToAddress(a.Address), wei, a.Nonce)
		}
	}
	n.coinbase = n.accounts[0].addr
	for i := range min(cfg.Peers, 200) {
		k, err := crypto.ToECDSA(n.derive("peer", uint64(i)))
		if err != nil {
			return nil, fmt.Errorf("eth: derive peer: %w", err)
		}
		pp := crypto.FromECDSAPub(&k.PublicKey)[1:]
		r := n.derive("peeraddr", uint64(i))
		n.peers = append(n.peers, peer{
			id: hex.EncodeToString(crypto.Keccak256(pp)), pub: hex.EncodeToString(pp),
			name: peerClients[int(r[0])%len(peerClients)],
			// Documentation ranges only (RFC 5737): never real hosts.
			remote:  fmt.Sprintf("%s.%d:%d", docNets[int(r[1])%len(docNets)], 1+int(r[2])%254, 30303+int(r[3])%3),
			inbound: r[4]%3 == 0,
		})
	}
	return n, nil
}

var docNets = []string{"192.0.2", "198.51.100", "203.0.113"}

// peerClients are client names real mainnet peers announce.
var peerClients = []string{
	"Geth/v1.13.15-stable-c5ba367e/linux-amd64/go1.21.6",
	"Geth/v1.13.14-stable-2bd6bd01/linux-amd64/go1.21.7",
	"Nethermind/v1.25.4+20b10b35/linux-x64/dotnet8.0.2",
	"erigon/2.59.3/linux-amd64/go1.21.6",
	"besu/v24.3.0/linux-x86_64/openjdk-java-17",
	"reth/v0.2.0-beta.5-7df2d0a/x86_64-unknown-linux-gnu",
}

func patch(v string) int {
	v = strings.TrimPrefix(v, "Geth/v")
	v, _, _ = strings.Cut(v, "/")
	v, _, _ = strings.Cut(v, "-")
	var a, b, c int
	_, _ = fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c)
	return c
}

func (n *node) addAccount(a common.Address, bal *big.Int, nonce uint64) {
	r := n.derive("created", uint64(len(n.accounts)))
	created := n.cfg.HeadTime.Add(-time.Duration(30+int(r[0])%700) * 24 * time.Hour).Add(time.Duration(binary.BigEndian.Uint32(r[1:5])%86400) * time.Second)
	n.accounts = append(n.accounts, decoy{addr: a, balance: bal, nonce: nonce, created: created.UTC()})
	// append may have moved the slice: index it again.
	for i := range n.accounts {
		n.byAddr[n.accounts[i].addr] = &n.accounts[i]
	}
}

// derive returns 32 bytes that depend only on the seed, a label and i.
func (n *node) derive(label string, i uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	return crypto.Keccak256(n.seed, []byte("kansoku-eth/"+label+"/"), b[:])
}

// head is the current block number: it advances with time like the chain.
func (n *node) head() uint64 {
	d := n.now().Sub(n.cfg.HeadTime)
	if d <= 0 {
		return n.cfg.HeadBlock
	}
	return n.cfg.HeadBlock + uint64(d/n.cfg.BlockTime)
}

// blockTime is when block num was sealed.
func (n *node) blockTime(num uint64) uint64 {
	t := n.cfg.HeadTime.Unix()
	step := int64(n.cfg.BlockTime / time.Second)
	return uint64(t + (int64(num)-int64(n.cfg.HeadBlock))*step)
}

// blockHash is the hash of block num; the parent of num+1 names it.
func (n *node) blockHash(num uint64) common.Hash {
	if num == 0 && n.cfg.ChainID == 1 {
		return mainnetGenesis
	}
	return common.BytesToHash(n.derive("block", num))
}

// gasPrice varies slowly with the head, between about 5 and 40 gwei.
func (n *node) baseFee(num uint64) *big.Int {
	r := n.derive("basefee", num/25)
	gwei := 5 + int64(binary.BigEndian.Uint16(r[:2]))%35
	fee := big.NewInt(gwei * 1e9)
	return fee.Add(fee, big.NewInt(int64(binary.BigEndian.Uint32(r[2:6])%1e9)))
}

func (n *node) balance(a common.Address) *big.Int {
	if d := n.byAddr[a]; d != nil {
		return d.balance
	}
	return new(big.Int)
}

func (n *node) nonce(a common.Address) uint64 {
	if d := n.byAddr[a]; d != nil {
		return d.nonce
	}
	return 0
}

// enode is the node's URL as admin_nodeInfo shows it.
func (n *node) enode() string {
	return fmt.Sprintf("enode://%s@127.0.0.1:%d", n.pubHex, n.cfg.ListenPort)
}

// keystoreURL is the path of an account's key file, named as Geth names it.
func (n *node) keystoreURL(d *decoy) string {
	ts := d.created.Format("2006-01-02T15-04-05.000000000Z")
	return "keystore:///root/.ethereum/keystore/UTC--" + ts + "--" + hex.EncodeToString(d.addr[:])
}
