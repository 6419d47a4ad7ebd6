package eth

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Config is the eth sensor's own config.
type Config struct {
	// Transport is "http" (JSON-RPC over HTTP POST, Geth's --http) or "ws"
	// (JSON-RPC over WebSocket, Geth's --ws).
	Transport string `yaml:"transport"`
	// ClientVersion is what web3_clientVersion answers. Its version number
	// also decides which APIs the node has: Geth 1.14 removed personal_*
	// and the ethash mining methods.
	ClientVersion string `yaml:"client_version"`
	ChainID       uint64 `yaml:"chain_id"`
	NetworkID     uint64 `yaml:"network_id"`
	// HeadBlock was the chain head at HeadTime; the head advances by one
	// block every BlockTime from there, as the real chain does.
	HeadBlock uint64        `yaml:"head_block"`
	HeadTime  time.Time     `yaml:"head_time"`
	BlockTime time.Duration `yaml:"block_time"`
	// Accounts are the decoys in the node's keystore; empty draws three
	// from the installation's seed.
	Accounts []Account `yaml:"accounts"`
	// APIs are the namespaces served (Geth's --http.api / --ws.api).
	APIs []string `yaml:"apis"`
	// VHosts are the Host names accepted (--http.vhosts); "*" accepts all.
	VHosts []string `yaml:"vhosts"`
	// CORSDomains are the origins allowed (--http.corsdomain); empty sends
	// no CORS headers.
	CORSDomains []string `yaml:"cors_domains"`
	// WSOrigins are the origins accepted on WebSocket (--ws.origins).
	WSOrigins []string `yaml:"ws_origins"`
	// Peers is how many peers the node reports being connected to.
	Peers int `yaml:"peers"`
	// ListenPort is the devp2p port shown in the enode URL and node info.
	ListenPort int `yaml:"p2p_port"`
	// MaxParams bounds how much of each call's params an event records.
	MaxParams int `yaml:"max_params"`
}

// Account is one decoy account.
type Account struct {
	Address string `yaml:"address"`
	// Balance in ether, a decimal ("1523.75").
	Balance string `yaml:"balance"`
	Nonce   uint64 `yaml:"nonce"`
}

// DefaultClientVersion is a release from before Geth 1.14, when the
// personal API that attackers brute-force still existed.
const DefaultClientVersion = "Geth/v1.13.15-stable-c5ba367e/linux-amd64/go1.21.6"

func defaultConfig() Config {
	return Config{
		Transport:     "http",
		ClientVersion: DefaultClientVersion,
		ChainID:       1,
		NetworkID:     1,
		// Mainnet block 21,000,000 was sealed on 2024-10-19.
		HeadBlock:   21000000,
		HeadTime:    time.Date(2024, 10, 19, 15, 21, 59, 0, time.UTC),
		BlockTime:   12 * time.Second,
		APIs:        []string{"eth", "net", "web3", "personal", "admin", "miner", "txpool", "debug"},
		VHosts:      []string{"*"},
		CORSDomains: []string{"*"},
		WSOrigins:   []string{"*"},
		Peers:       25,
		ListenPort:  30303,
		MaxParams:   4096,
	}
}

// validate checks c and resolves the decoy accounts.
func (c *Config) validate() error {
	switch {
	case c.Transport != "http" && c.Transport != "ws":
		return fmt.Errorf("transport must be http or ws, got %q", c.Transport)
	case !strings.HasPrefix(c.ClientVersion, "Geth/v"):
		return fmt.Errorf("client_version must look like Geth/vX.Y.Z-..., got %q", c.ClientVersion)
	case c.ChainID == 0:
		return errors.New("chain_id must be positive")
	case c.NetworkID == 0:
		return errors.New("network_id must be positive")
	case c.BlockTime < time.Second:
		return errors.New("block_time must be at least 1s")
	case c.HeadTime.IsZero():
		return errors.New("head_time must be set")
	case c.Peers < 0 || c.Peers > 200:
		return fmt.Errorf("peers must be 0..200, got %d", c.Peers)
	case c.ListenPort < 1 || c.ListenPort > 65535:
		return fmt.Errorf("p2p_port must be 1..65535, got %d", c.ListenPort)
	case c.MaxParams < 64 || c.MaxParams > 1<<20:
		return fmt.Errorf("max_params must be 64..1048576, got %d", c.MaxParams)
	case len(c.Accounts) > 64:
		return errors.New("at most 64 accounts")
	}
	if _, _, err := c.version(); err != nil {
		return err
	}
	for _, api := range c.APIs {
		if !knownAPI[api] {
			return fmt.Errorf("apis: unknown namespace %q", api)
		}
	}
	for i, a := range c.Accounts {
		if !common.IsHexAddress(a.Address) {
			return fmt.Errorf("accounts[%d]: address %q is not a 20-byte hex address", i, a.Address)
		}
		if _, err := etherToWei(a.Balance); err != nil {
			return fmt.Errorf("accounts[%d]: balance: %w", i, err)
		}
	}
	return nil
}

var knownAPI = map[string]bool{"eth": true, "net": true, "web3": true, "personal": true, "admin": true,
	"miner": true, "txpool": true, "debug": true, "rpc": true}

// version returns the major and minor of the Geth release in ClientVersion.
func (c *Config) version() (major, minor int, err error) {
	v := strings.TrimPrefix(c.ClientVersion, "Geth/v")
	v, _, _ = strings.Cut(v, "/")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return 0, 0, fmt.Errorf("client_version: cannot read a version X.Y.Z in %q", c.ClientVersion)
	}
	if major, err = strconv.Atoi(parts[0]); err == nil {
		minor, err = strconv.Atoi(parts[1])
	}
	if err != nil {
		return 0, 0, fmt.Errorf("client_version: cannot read a version X.Y.Z in %q", c.ClientVersion)
	}
	return major, minor, nil
}

var weiPerEther = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))

// etherToWei parses a decimal amount of ether exactly.
func etherToWei(s string) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return nil, fmt.Errorf("%q is not a non-negative decimal amount of ether", s)
	}
	r.Mul(r, weiPerEther)
	if !r.IsInt() {
		return nil, fmt.Errorf("%q has more than 18 decimals", s)
	}
	return new(big.Int).Set(r.Num()), nil
}
