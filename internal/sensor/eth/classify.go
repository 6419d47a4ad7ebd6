package eth

import "strings"

// Categories of what a call tries to do (the rpc.call event's category).
const (
	CatInfo    = "information_gathering"
	CatBalance = "balance_check"
	CatBrute   = "password_brute_force"
	CatTheft   = "theft_attempt"
	CatMining  = "mining"
	CatEclipse = "eclipse"
	CatOther   = "other"
)

// Categories lists every category in the order the portal shows them.
var Categories = []string{CatInfo, CatBalance, CatBrute, CatTheft, CatMining, CatEclipse, CatOther}

var categoryOf = map[string]string{
	// Looking for accounts with a balance.
	"eth_accounts": CatBalance, "personal_listAccounts": CatBalance, "personal_listWallets": CatBalance,
	"eth_getBalance": CatBalance, "eth_getTransactionCount": CatBalance,
	// Guessing the keystore password.
	"personal_unlockAccount": CatBrute,
	// Moving or signing funds.
	"eth_sendTransaction": CatTheft, "eth_signTransaction": CatTheft, "eth_sign": CatTheft,
	"personal_sendTransaction": CatTheft, "personal_signTransaction": CatTheft, "personal_sign": CatTheft,
	"eth_sendRawTransaction": CatTheft, "eth_signTypedData": CatTheft, "eth_signTypedData_v4": CatTheft,
	"personal_importRawKey": CatTheft,
	// Turning the node's mining to the attacker.
	"eth_getWork": CatMining, "eth_submitWork": CatMining, "eth_submitHashrate": CatMining,
	"eth_coinbase": CatMining, "eth_mining": CatMining, "eth_hashrate": CatMining,
	// Cutting the node off the network with the attacker's peers.
	"admin_addPeer": CatEclipse, "admin_addTrustedPeer": CatEclipse,
	"admin_removePeer": CatEclipse, "admin_removeTrustedPeer": CatEclipse,
}

// infoPrefixes are namespaces whose read-only calls map out the node.
var infoMethods = map[string]bool{
	"web3_clientVersion": true, "web3_sha3": true, "net_version": true, "net_listening": true, "net_peerCount": true,
	"eth_chainId": true, "eth_syncing": true, "eth_blockNumber": true, "eth_gasPrice": true, "eth_maxPriorityFeePerGas": true,
	"eth_getBlockByNumber": true, "eth_getBlockByHash": true, "eth_getBlockTransactionCountByNumber": true,
	"eth_estimateGas": true, "eth_call": true, "eth_getCode": true, "eth_getStorageAt": true,
	"eth_getTransactionByHash": true, "eth_getTransactionReceipt": true, "eth_protocolVersion": true,
	"eth_feeHistory": true, "eth_getLogs": true, "rpc_modules": true,
	"admin_nodeInfo": true, "admin_peers": true, "admin_datadir": true,
}

// Classify names what a call of method tries to do.
func Classify(method string) string {
	if c, ok := categoryOf[method]; ok {
		return c
	}
	if infoMethods[method] || strings.HasPrefix(method, "txpool_") {
		return CatInfo
	}
	if strings.HasPrefix(method, "miner_") {
		return CatMining
	}
	return CatOther
}
