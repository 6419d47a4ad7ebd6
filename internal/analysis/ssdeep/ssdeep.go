// Package ssdeep computes context-triggered piecewise hashes (CTPH, the
// "spamsum" algorithm of Kornblum 2006 as implemented by ssdeep 2.x) and
// the 0–100 match score between two of them. MalwareBazaar and most
// sample exchanges publish an ssdeep value next to TLSH.
package ssdeep

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	rollingWindow  = 7
	minBlockSize   = 3
	hashPrime      = 0x01000193
	hashInit       = 0x28021967
	numBlockHashes = 31
	spamsumLength  = 64
	b64            = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// ErrBadDigest is returned by Compare for a malformed digest.
var ErrBadDigest = errors.New("ssdeep: malformed digest")

func blockSize(i int) uint64 { return uint64(minBlockSize) << i }

// roll is the state of the 7-byte rolling hash that decides where pieces
// end (updated inline in Hash).
type roll struct {
	window     [rollingWindow]byte
	h1, h2, h3 uint32
	n          uint32
}

func (r *roll) sum() uint32 { return r.h1 + r.h2 + r.h3 }

// blockHash is the piece hash state for one block size. halfH/halfDigest
// track the truncated (32-character) form used as the second signature.
type blockHash struct {
	h, halfH   uint32
	digest     [spamsumLength]byte
	halfDigest byte
	dlen       int
}

type state struct {
	start, end int
	bh         [numBlockHashes]blockHash
	total      uint64
	r          roll
}

// Hash returns the ssdeep digest "blocksize:sig1:sig2" of data.
func Hash(data []byte) string {
	s := &state{end: 1, total: uint64(len(data))}
	s.bh[0].h, s.bh[0].halfH = hashInit, hashInit
	// This loop is the whole cost, so its state lives in locals (no
	// memory traffic through s, which also keeps the race detector cheap);
	// s is synced only when a piece ends.
	var win [rollingWindow]byte
	var h1, h2, h3, n uint32
	var hs, halfs [numBlockHashes]uint32
	hs[0], halfs[0] = hashInit, hashInit
	start, end := s.start, s.end
	for _, c := range data {
		// The rolling hash of roll.add, inlined.
		h2 = h2 - h1 + rollingWindow*uint32(c)
		h1 = h1 + uint32(c) - uint32(win[n%rollingWindow])
		win[n%rollingWindow] = c
		n++
		h3 = h3<<5 ^ uint32(c)
		h := h1 + h2 + h3
		for i := start; i < end; i++ {
			hs[i] = hs[i]*hashPrime ^ uint32(c)
			halfs[i] = halfs[i]*hashPrime ^ uint32(c)
		}
		if bs := blockSize(start); uint64(h)%bs != bs-1 {
			continue
		}
		for i := start; i < end; i++ {
			s.bh[i].h, s.bh[i].halfH = hs[i], halfs[i]
		}
		s.step(h)
		start, end = s.start, s.end
		for i := start; i < end; i++ {
			hs[i], halfs[i] = s.bh[i].h, s.bh[i].halfH
		}
	}
	for i := start; i < end; i++ {
		s.bh[i].h, s.bh[i].halfH = hs[i], halfs[i]
	}
	s.r = roll{window: win, h1: h1, h2: h2, h3: h3, n: n}
	return s.digest()
}

func (s *state) forkBlockHash() {
	if s.end >= numBlockHashes {
		return
	}
	o := &s.bh[s.end-1]
	s.bh[s.end] = blockHash{h: o.h, halfH: o.halfH}
	s.end++
}

func (s *state) reduceBlockHash() {
	if s.end-s.start < 2 || blockSize(s.start)*spamsumLength >= s.total || s.bh[s.start+1].dlen < spamsumLength/2 {
		return
	}
	s.start++
}

// step ends the pieces that position h ends; the piece hashes were
// already updated with the byte.
func (s *state) step(h uint32) {
	for i := s.start; i < s.end; i++ {
		bs := blockSize(i)
		// Block sizes double, so a position that does not end a piece
		// for this size ends none for the larger ones either.
		if uint64(h)%bs != bs-1 {
			break
		}
		b := &s.bh[i]
		if b.dlen == 0 {
			s.forkBlockHash()
			b = &s.bh[i]
		}
		b.digest[b.dlen] = b64[b.h%64]
		b.halfDigest = b64[b.halfH%64]
		if b.dlen < spamsumLength-1 {
			b.dlen++
			b.digest[b.dlen] = 0
			b.h = hashInit
			if b.dlen < spamsumLength/2 {
				b.halfH = hashInit
				b.halfDigest = 0
			}
		} else {
			s.reduceBlockHash()
		}
	}
}

func (s *state) digest() string {
	bi := s.start
	h := s.r.sum()
	for blockSize(bi)*spamsumLength < s.total {
		bi++
		if bi >= numBlockHashes {
			bi = numBlockHashes - 1
			break
		}
	}
	if bi >= s.end {
		bi = s.end - 1
	}
	for bi > s.start && s.bh[bi].dlen < spamsumLength/2 {
		bi--
	}
	var out strings.Builder
	out.WriteString(strconv.FormatUint(blockSize(bi), 10))
	out.WriteByte(':')
	b := &s.bh[bi]
	out.Write(b.digest[:b.dlen])
	if h != 0 {
		out.WriteByte(b64[b.h%64])
	} else if b.dlen < spamsumLength && b.digest[b.dlen] != 0 {
		out.WriteByte(b.digest[b.dlen])
	}
	out.WriteByte(':')
	if bi < s.end-1 {
		b := &s.bh[bi+1]
		n := min(b.dlen, spamsumLength/2-1)
		out.Write(b.digest[:n])
		if h != 0 {
			out.WriteByte(b64[b.halfH%64])
		} else if b.halfDigest != 0 {
			out.WriteByte(b.halfDigest)
		}
	} else if h != 0 {
		if bi == 0 {
			out.WriteByte(b64[s.bh[bi].h%64])
		} else {
			out.WriteByte(b64[s.bh[bi].halfH%64])
		}
	}
	return out.String()
}

type parsed struct {
	bs     uint64
	s1, s2 string
}

func parse(d string) (parsed, error) {
	bsS, rest, ok := strings.Cut(d, ":")
	if !ok {
		return parsed{}, fmt.Errorf("%w: %q", ErrBadDigest, d)
	}
	s1, s2, ok := strings.Cut(rest, ":")
	if !ok {
		return parsed{}, fmt.Errorf("%w: %q", ErrBadDigest, d)
	}
	if i := strings.IndexByte(s2, ','); i >= 0 {
		s2 = s2[:i] // "digest,filename" as the ssdeep tool prints it
	}
	bs, err := strconv.ParseUint(bsS, 10, 32)
	if err != nil || bs < minBlockSize || len(s1) > spamsumLength || len(s2) > spamsumLength {
		return parsed{}, fmt.Errorf("%w: %q", ErrBadDigest, d)
	}
	return parsed{bs, eliminateSequences(s1), eliminateSequences(s2)}, nil
}

// eliminateSequences shortens runs of more than three equal characters to
// three: long runs come from low-entropy data and would inflate scores.
func eliminateSequences(s string) string {
	b := []byte(s)
	out := b[:0]
	for i, c := range b {
		if i >= 3 && c == b[i-1] && c == b[i-2] && c == b[i-3] {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

// Compare returns the match score of two digests, 0 (unrelated) to 100.
func Compare(a, b string) (int, error) {
	pa, err := parse(a)
	if err != nil {
		return 0, err
	}
	pb, err := parse(b)
	if err != nil {
		return 0, err
	}
	if pa.bs != pb.bs && pa.bs != 2*pb.bs && pb.bs != 2*pa.bs {
		return 0, nil
	}
	if pa.bs == pb.bs && pa.s1 == pb.s1 && pa.s2 == pb.s2 {
		return 100, nil
	}
	switch {
	case pa.bs == pb.bs:
		return max(scoreStrings(pa.s1, pb.s1, pa.bs), scoreStrings(pa.s2, pb.s2, pa.bs*2)), nil
	case pa.bs == 2*pb.bs:
		return scoreStrings(pa.s1, pb.s2, pa.bs), nil
	default:
		return scoreStrings(pa.s2, pb.s1, pb.bs), nil
	}
}

func scoreStrings(s1, s2 string, bs uint64) int {
	if len(s1) > spamsumLength || len(s2) > spamsumLength || !commonSubstring(s1, s2) {
		return 0
	}
	score := editDistance(s1, s2)
	score = score * spamsumLength / (len(s1) + len(s2))
	score = 100 * score / spamsumLength
	if score >= 100 {
		return 0
	}
	score = 100 - score
	// Small block sizes cannot support high scores on short signatures.
	if bs >= (99+rollingWindow)/rollingWindow*minBlockSize {
		return score
	}
	if limit := int(bs/minBlockSize) * min(len(s1), len(s2)); score > limit {
		score = limit
	}
	return score
}

// commonSubstring reports whether s1 and s2 share rollingWindow characters.
func commonSubstring(s1, s2 string) bool {
	if len(s1) < rollingWindow || len(s2) < rollingWindow {
		return false
	}
	for i := 0; i+rollingWindow <= len(s1); i++ {
		if strings.Contains(s2, s1[i:i+rollingWindow]) {
			return true
		}
	}
	return false
}

// editDistance is Levenshtein distance with insert and delete costing 1
// and substitution 2, as ssdeep weighs them.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub += 2
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
