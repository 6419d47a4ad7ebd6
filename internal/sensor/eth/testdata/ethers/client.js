// A real ethers.js v6 client against the eth sensor: it reads the chain id,
// block number, accounts and balances, tries to unlock and to send, and
// prints one JSON line of what it saw. Usage: node client.js URL
const { ethers } = require("ethers");

// rpcMessage is the node's own error text, wherever ethers put it.
function rpcMessage(e) {
  if (e.info && e.info.error) return e.info.error.message;
  if (e.error && e.error.message) return e.error.message;
  return String(e.message);
}

async function main() {
  const url = process.argv[2];
  const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: false, batchMaxCount: 1 });
  const out = {};
  const net = await provider.getNetwork();
  out.chainId = net.chainId.toString();
  out.blockNumber = await provider.getBlockNumber();
  const block = await provider.getBlock("latest");
  out.blockHash = block.hash;
  out.accounts = await provider.send("eth_accounts", []);
  out.balances = [];
  for (const a of out.accounts) {
    out.balances.push((await provider.getBalance(a)).toString());
  }
  out.version = await provider.send("web3_clientVersion", []);
  try {
    await provider.send("personal_unlockAccount", [out.accounts[0], "correct horse battery staple", 600]);
    out.unlock = "ok";
  } catch (e) {
    out.unlock = rpcMessage(e);
  }
  const signer = await provider.getSigner(out.accounts[0]);
  try {
    await signer.sendTransaction({ to: "0x00000000000000000000000000000000c0ffee00", value: ethers.parseEther("12.5") });
    out.send = "ok";
  } catch (e) {
    out.send = rpcMessage(e);
  }
  const wallet = ethers.Wallet.createRandom().connect(provider);
  try {
    await wallet.sendTransaction({ to: "0x00000000000000000000000000000000c0ffee00", value: 1n, gasLimit: 21000n, maxFeePerGas: 30000000000n, maxPriorityFeePerGas: 1000000000n, nonce: 0, chainId: 1n });
    out.raw = "ok";
  } catch (e) {
    out.raw = rpcMessage(e);
  }
  out.from = wallet.address.toLowerCase();
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
