package eth

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// sendRaw decodes a signed transaction with go-ethereum's own types,
// records it, and rejects it the way the transaction pool would: a sender
// without the funds (every sender but our decoys) cannot pay for it. The
// transaction is never broadcast anywhere.
func (n *node) sendRaw(c *call, raw hexutil.Bytes) (any, *rpcError) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		c.rec.set("raw_tx_error", err.Error())
		return nil, errDefault(err.Error())
	}
	signer := types.LatestSignerForChainID(tx.ChainId())
	from, serr := types.Sender(signer, tx)
	c.rec.rawTx(tx, from, serr)
	if !tx.Protected() {
		return nil, errDefault("only replay-protected (EIP-155) transactions allowed over RPC")
	}
	if tx.ChainId().Cmp(new(big.Int).SetUint64(n.cfg.ChainID)) != 0 {
		return nil, errDefault("invalid sender: invalid chain id for signer: have " + tx.ChainId().String() + " want " + fmt.Sprint(n.cfg.ChainID))
	}
	if serr != nil {
		return nil, errDefault("invalid sender: " + serr.Error())
	}
	if need := intrinsicGas(tx.Data(), tx.To() == nil); tx.Gas() < need {
		return nil, errDefault(fmt.Sprintf("intrinsic gas too low: gas %d, minimum needed %d", tx.Gas(), need))
	}
	cost := tx.Cost()
	if bal := n.balance(from); bal.Cmp(cost) < 0 {
		return nil, errDefault(fmt.Sprintf("insufficient funds for gas * price + value: balance %v, tx cost %v, overshot %v", bal, cost, new(big.Int).Sub(cost, bal)))
	}
	if tx.Nonce() < n.nonce(from) {
		return nil, errDefault(fmt.Sprintf("nonce too low: next nonce %d, tx nonce %d", n.nonce(from), tx.Nonce()))
	}
	return tx.Hash(), nil
}
