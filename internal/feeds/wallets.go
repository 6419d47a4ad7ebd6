package feeds

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/kansoku/kansoku/internal/ethcampaign"
)

// WalletCSVColumns are the columns of the destination-address feed.
var WalletCSVColumns = []string{"first_seen_utc", "last_seen_utc", "address", "currency", "via", "sources", "count", "max_value_wei"}

// WriteWalletsCSV writes the addresses attackers tried to send stolen
// Ether or mining rewards to.
func WriteWalletsCSV(w io.Writer, wallets []ethcampaign.Wallet) error {
	cw := csv.NewWriter(w)
	cw.Write(WalletCSVColumns)
	for _, x := range wallets {
		cw.Write([]string{x.First.UTC().Format(csvTime), x.Last.UTC().Format(csvTime), sanitize(x.Address), x.Currency,
			strings.Join(x.Via, " "), strconv.Itoa(x.Sources), strconv.Itoa(x.Count), x.MaxValue})
	}
	cw.Flush()
	return cw.Error()
}

// walletMISPType is the MISP attribute type of a wallet: MISP has "btc"
// for Bitcoin; other currencies' addresses are "text" in the "Financial
// fraud" category, the type MISP's coin-address object uses for them.
func walletMISPType(currency string) string {
	if currency == "btc" {
		return "btc"
	}
	return "text"
}

// AddWalletsMISP adds wallet addresses to a MISP feed, in the event of the
// day each was first seen.
func AddWalletsMISP(f *MISPFeed, wallets []ethcampaign.Wallet, o Options) {
	for _, x := range wallets {
		comment := strings.ToUpper(x.Currency) + " wallet an attacker of the Ethereum honeypot tried to send funds or mining rewards to (" + strings.Join(x.Via, ", ") + ")"
		addMISP(f, x.First, x.Last, walletMISPType(x.Currency), "Financial fraud", x.Address, comment, o)
	}
	f.reindex()
}

// STIXWalletType is the custom observable type of a cryptocurrency wallet:
// STIX 2.1 has none, and custom types carry the x- prefix.
const STIXWalletType = "x-cryptocurrency-wallet"

// AddWalletsSTIX adds an indicator and a sighting per wallet address.
func AddWalletsSTIX(b *STIXBundle, wallets []ethcampaign.Wallet, o Options) {
	id := func(typ, name string) string { return typ + "--" + UUID5(o.Seed, "stix/"+typ+"/"+name) }
	ident := id("identity", "sensors")
	for _, x := range wallets {
		key := "wallet/" + x.Currency + "/" + x.Address
		iid := id("indicator", key)
		pattern := "[" + STIXWalletType + ":address = " + stixQuote(x.Address) + " AND " + STIXWalletType + ":currency = " + stixQuote(x.Currency) + "]"
		b.Objects = append(b.Objects,
			map[string]any{"type": "indicator", "spec_version": "2.1", "id": iid, "created": STIXTime(x.First), "modified": STIXTime(x.Last),
				"name": strings.ToUpper(x.Currency) + " wallet " + x.Address, "indicator_types": []string{"malicious-activity"},
				"description": "destination of theft or mining-redirect attempts against the Ethereum honeypot (" + strings.Join(x.Via, ", ") + ")",
				"pattern":     pattern, "pattern_type": "stix", "valid_from": STIXTime(x.First)},
			map[string]any{"type": "sighting", "spec_version": "2.1", "id": id("sighting", key), "created": STIXTime(x.First), "modified": STIXTime(x.Last),
				"sighting_of_ref": iid, "count": max(1, min(x.Count, 999999999)), "first_seen": STIXTime(x.First), "last_seen": STIXTime(x.Last),
				"where_sighted_refs": []string{ident}})
	}
	b.Objects = dedupe(b.Objects)
	b.reID(o)
}
