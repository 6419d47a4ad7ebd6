package analysis

import (
	"bytes"
	"slices"
)

// Credential tables of IoT bots, decoded exactly instead of guessed from
// neighbouring strings.
//
// Mirai's scanner.c adds each pair with add_auth_entry(user, password,
// weight): both literals XORed with the table key (0x22 for 0xdeadbeef)
// and ended by a plain NUL — no encoded NUL, unlike table.c. They are
// found like the table: known user names are searched in the neighbour
// XOR of the data (key-independent), bounded by plain NULs on both sides,
// and the hits vote for the key. The pairs are then the decoded literals
// in file order, user first: the layout a compiler gives the calls'
// literals when it does not merge repeated ones.
//
// BASHLITE (Gafgyt) keeps plain arrays, `char *usernames[] = {"root\0",
// ...}` and `char *passwords[] = {"root\0", ...}`: each literal carries an
// explicit "\0" besides its own, so it is followed by two NULs. Its
// scanner tries every password with every user name, so the pairs are the
// product of the two arrays. The passwords array starts where a literal
// repeats one of the user array (both start with "root").

// CredentialTable is a decoded brute-force table.
type CredentialTable struct {
	Form  string       `json:"form"`          // mirai-scanner (XOR, NUL-terminated pairs), bashlite-arrays
	Key   byte         `json:"key,omitempty"` // XOR key of the mirai form
	Pairs []Credential `json:"pairs"`
	Users []string     `json:"users,omitempty"` // bashlite: the arrays as decoded
	Words []string     `json:"passwords,omitempty"`
}

const maxCredPairs = 500

// credUsers are user names nearly every IoT brute-force table starts from.
var credUsers = []string{"root", "admin", "support", "guest", "user", "default", "service", "supervisor", "administrator", "ubnt", "tech", "mother", "daemon"}

// xorCredentials finds Mirai's scanner table. diff is neighbourXOR(data).
func xorCredentials(data, diff []byte) *CredentialTable {
	type hit struct{ off, user int }
	hits := map[byte][]hit{}
	for ui, u := range credUsers {
		pat := diffPattern([]byte(u))
		for from := 0; from < len(diff); {
			i := bytes.Index(diff[from:], pat)
			if i < 0 {
				break
			}
			off := from + i
			from = off + 1
			end := off + len(u)
			k := data[off] ^ u[0]
			if k == 0 || off == 0 || end >= len(data) || data[off-1] != 0 || data[end] != 0 || len(hits[k]) >= 256 {
				continue
			}
			hits[k] = append(hits[k], hit{off, ui})
		}
	}
	best, bestN := byte(0), 0
	for k, hs := range hits {
		distinct := map[int]bool{}
		for _, h := range hs {
			distinct[h.user] = true
		}
		if n := len(distinct); n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	if bestN < 2 {
		return nil
	}
	first := len(data)
	for _, h := range hits[best] {
		first = min(first, h.off)
	}
	// Walk back to the start of the run of literals, then decode it; two
	// empty literals in a row are padding, not the table.
	start, empties := first, 0
	for start > 1 && data[start-1] == 0 {
		j := start - 1 // the NUL ending the literal before
		i := j
		for i > 0 && data[i-1] != 0 && isPrint(data[i-1]^best) && j-i < 64 {
			i--
		}
		if i > 0 && data[i-1] != 0 {
			break
		}
		if i == j {
			if empties++; empties > 1 {
				break
			}
		} else {
			empties = 0
		}
		start = i
	}
	var lits []string
	empties = 0
	for i := start; i < len(data) && len(lits) < 2*maxCredPairs; {
		j := i
		for j < len(data) && data[j] != 0 && isPrint(data[j]^best) && j-i < 64 {
			j++
		}
		if j >= len(data) || data[j] != 0 {
			break
		}
		if j == i {
			if empties++; empties > 1 {
				break
			}
		} else {
			empties = 0
		}
		s := make([]byte, j-i)
		for x := range s {
			s[x] = data[i+x] ^ best
		}
		lits = append(lits, string(s))
		i = j + 1
	}
	// User names sit at even places: choose the parity most known users
	// land on.
	even, odd := 0, 0
	for i, s := range lits {
		if slices.Contains(credUsers, s) {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	if odd > even {
		lits = lits[1:]
	}
	t := &CredentialTable{Form: "mirai-scanner", Key: best}
	for i := 0; i+1 < len(lits); i += 2 {
		t.Pairs = append(t.Pairs, Credential{User: printable(lits[i], 64), Password: printable(lits[i+1], 64)})
	}
	if len(t.Pairs) == 0 {
		return nil
	}
	return t
}

// bashliteCredentials finds BASHLITE's user and password arrays.
func bashliteCredentials(data []byte) *CredentialTable {
	const marker = "\x00root\x00\x00"
	at := bytes.Index(data, []byte(marker))
	if at < 0 {
		return nil
	}
	// literals of "x\0" followed by their own NUL, from the first root
	var lits []string
	for i := at + 1; i < len(data) && len(lits) < 256; {
		j := i
		for j < len(data) && data[j] != 0 && isPrint(data[j]) && j-i < 64 {
			j++
		}
		if j+1 >= len(data) || data[j] != 0 || data[j+1] != 0 {
			break
		}
		lits = append(lits, string(data[i:j]))
		i = j + 2
	}
	split := len(lits)
	for i := 1; i < len(lits); i++ {
		if slices.Contains(lits[:i], lits[i]) {
			split = i
			break
		}
	}
	users, words := lits[:split], lits[split:]
	known := 0
	for _, u := range users {
		if slices.Contains(credUsers, u) {
			known++
		}
	}
	if known < 2 || len(words) == 0 {
		return nil
	}
	t := &CredentialTable{Form: "bashlite-arrays"}
	for _, u := range users {
		t.Users = append(t.Users, printable(u, 64))
	}
	for _, w := range words {
		t.Words = append(t.Words, printable(w, 64))
	}
	for _, u := range t.Users {
		for _, w := range t.Words {
			if len(t.Pairs) < maxCredPairs {
				t.Pairs = append(t.Pairs, Credential{User: u, Password: w})
			}
		}
	}
	return t
}
