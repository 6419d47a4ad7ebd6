// Package tlsh computes the Trend Micro Locality Sensitive Hash (TLSH) of a
// byte stream and the distance between two hashes, so that variants of one
// malware family (same code, different C2 strings or build) cluster together.
//
// It implements the published algorithm (Oliver, Cheng, Chen: "TLSH - A
// Locality Sensitive Hash", 2013) in its standard form: 128 buckets, a
// one-byte checksum, and the "T1" version prefix on the 72-character hex
// digest, as used by VirusTotal and MalwareBazaar.
package tlsh

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

const (
	windowSize = 5
	buckets    = 256 // the Pearson mapping yields a byte; only the first 128 count
	effBuckets = 128
	codeSize   = effBuckets / 4 // two bits per bucket

	// MinLength is the shortest input that yields a hash.
	MinLength = 50
	// MaxLength bounds the input: the length field cannot express more.
	MaxLength = 4<<30 - 1

	// DigestLen is the length of a digest string, "T1" included.
	DigestLen = 2 + 2*(3+codeSize)
)

// Errors returned by Hash and Parse.
var (
	ErrTooShort    = errors.New("tlsh: input shorter than 50 bytes")
	ErrTooLong     = errors.New("tlsh: input longer than 4 GiB")
	ErrLowVariance = errors.New("tlsh: not enough variation in input")
	ErrBadDigest   = errors.New("tlsh: malformed digest")
)

// pearson is the random permutation of 0..255 from Pearson's 1990 paper
// "Fast Hashing of Variable-Length Text Strings", which TLSH uses as its
// mixing table; digests are comparable across implementations only with it.
var pearson = [256]byte{
	1, 87, 49, 12, 176, 178, 102, 166, 121, 193, 6, 84, 249, 230, 44, 163,
	14, 197, 213, 181, 161, 85, 218, 80, 64, 239, 24, 226, 236, 142, 38, 200,
	110, 177, 104, 103, 141, 253, 255, 50, 77, 101, 81, 18, 45, 96, 31, 222,
	25, 107, 190, 70, 86, 237, 240, 34, 72, 242, 20, 214, 244, 227, 149, 235,
	97, 234, 57, 22, 60, 250, 82, 175, 208, 5, 127, 199, 111, 62, 135, 248,
	174, 169, 211, 58, 66, 154, 106, 195, 245, 171, 17, 187, 182, 179, 0, 243,
	132, 56, 148, 75, 128, 133, 158, 100, 130, 126, 91, 13, 153, 246, 216, 219,
	119, 68, 223, 78, 83, 88, 201, 99, 122, 11, 92, 32, 136, 114, 52, 10,
	138, 30, 48, 183, 156, 35, 61, 26, 143, 74, 251, 94, 129, 162, 63, 152,
	170, 7, 115, 167, 241, 206, 3, 150, 55, 59, 151, 220, 90, 53, 23, 131,
	125, 173, 15, 238, 79, 95, 89, 16, 105, 137, 225, 224, 217, 160, 37, 123,
	118, 73, 2, 157, 46, 116, 9, 145, 134, 228, 207, 212, 202, 215, 69, 229,
	27, 188, 67, 124, 168, 252, 42, 4, 29, 108, 21, 247, 19, 205, 39, 203,
	233, 40, 186, 147, 198, 192, 155, 33, 164, 191, 98, 204, 165, 180, 117, 76,
	140, 36, 210, 172, 41, 54, 159, 8, 185, 232, 113, 196, 231, 47, 146, 120,
	51, 65, 28, 144, 254, 221, 93, 189, 194, 139, 112, 43, 71, 109, 184, 209,
}

// Digest is a parsed TLSH value.
type Digest struct {
	Checksum byte
	LValue   byte // log-scaled input length
	Q1Ratio  byte // (q1*100/q3) mod 16
	Q2Ratio  byte // (q2*100/q3) mod 16
	Code     [codeSize]byte
}

// Hash returns the TLSH digest of data.
func Hash(data []byte) (*Digest, error) {
	if len(data) < MinLength {
		return nil, ErrTooShort
	}
	if int64(len(data)) > MaxLength {
		return nil, ErrTooLong
	}
	var counts [buckets]uint32
	var checksum byte
	// A stack copy of the table keeps this loop, which dominates the
	// cost, free of global memory traffic (and of race-detector checks).
	p := pearson
	mix := func(salt, a, b, c byte) byte { return p[p[p[p[salt]^a]^b]^c] }
	// w0 is the newest byte of the 5-byte window, w4 the oldest.
	w1, w2, w3, w4 := data[3], data[2], data[1], data[0]
	for _, w0 := range data[4:] {
		checksum = mix(0, w0, w1, checksum)
		counts[mix(2, w0, w1, w2)]++
		counts[mix(3, w0, w1, w3)]++
		counts[mix(5, w0, w2, w3)]++
		counts[mix(7, w0, w2, w4)]++
		counts[mix(11, w0, w1, w4)]++
		counts[mix(13, w0, w3, w4)]++
		w4, w3, w2, w1 = w3, w2, w1, w0
	}
	nonzero := 0
	for _, c := range counts[:effBuckets] {
		if c > 0 {
			nonzero++
		}
	}
	if nonzero <= effBuckets/2 {
		return nil, ErrLowVariance
	}
	q1, q2, q3 := quartiles(counts[:effBuckets])
	if q3 == 0 {
		return nil, ErrLowVariance
	}
	d := &Digest{Checksum: checksum, LValue: lCapture(len(data))}
	for i := range codeSize {
		var h byte
		for j := range 4 {
			k := counts[4*i+j]
			switch {
			case k > q3:
				h |= 3 << (2 * j)
			case k > q2:
				h |= 2 << (2 * j)
			case k > q1:
				h |= 1 << (2 * j)
			}
		}
		d.Code[i] = h
	}
	d.Q1Ratio = byte(uint64(float32(q1*100)/float32(q3)) % 16)
	d.Q2Ratio = byte(uint64(float32(q2*100)/float32(q3)) % 16)
	return d, nil
}

// quartiles returns the 32nd, 64th and 96th smallest bucket counts.
func quartiles(c []uint32) (q1, q2, q3 uint32) {
	s := slices.Clone(c)
	slices.Sort(s)
	n := len(s)
	return s[n/4-1], s[n/2-1], s[n-n/4-1]
}

// lCapture maps a length to one byte on a log scale that is finer for
// small inputs; the constants are the reference's (logs of 1.5, 1.3, 1.1).
func lCapture(n int) byte {
	x := math.Log(float64(float32(n)))
	var i int
	switch {
	case n <= 656:
		i = int(math.Floor(x / 0.4054651))
	case n <= 3199:
		i = int(math.Floor(x/0.26236426 - 8.72777))
	default:
		i = int(math.Floor(x/0.095310180 - 62.5472))
	}
	return byte(i & 0xff)
}

func swapNibbles(b byte) byte { return b<<4 | b>>4 }

// String returns the digest in the T1 hex form: header bytes with swapped
// nibbles and the body in reverse byte order, as the reference prints it.
func (d *Digest) String() string {
	raw := make([]byte, 0, 3+codeSize)
	raw = append(raw, swapNibbles(d.Checksum), swapNibbles(d.LValue), d.Q1Ratio<<4|d.Q2Ratio)
	for i := codeSize - 1; i >= 0; i-- {
		raw = append(raw, d.Code[i])
	}
	return "T1" + strings.ToUpper(hex.EncodeToString(raw))
}

// Parse reads a digest in T1 form, or in the older form without the prefix.
func Parse(s string) (*Digest, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "T1"), "t1")
	if len(s) != DigestLen-2 {
		return nil, fmt.Errorf("%w: length %d", ErrBadDigest, len(s))
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDigest, err)
	}
	d := &Digest{Checksum: swapNibbles(raw[0]), LValue: swapNibbles(raw[1]), Q1Ratio: raw[2] >> 4, Q2Ratio: raw[2] & 0x0f}
	for i := range codeSize {
		d.Code[i] = raw[3+codeSize-1-i]
	}
	return d, nil
}

// modDiff is the distance between x and y on a circle of size r.
func modDiff(x, y, r int) int {
	d := x - y
	if d < 0 {
		d = -d
	}
	return min(d, r-d)
}

// Distance scores how different two digests are: 0 for identical, growing
// without a fixed bound; the reference suggests below ~100 as "similar".
// The length field is included (the reference's default diff).
func Distance(a, b *Digest) int { return distance(a, b, true) }

// DistanceNoLength is Distance without the length term, for comparing a
// file against a padded or repeated copy of itself.
func DistanceNoLength(a, b *Digest) int { return distance(a, b, false) }

func distance(a, b *Digest, withLen bool) int {
	diff := 0
	if withLen {
		ld := modDiff(int(a.LValue), int(b.LValue), 256)
		if ld <= 1 {
			diff += ld
		} else {
			diff += ld * 12
		}
	}
	for _, q := range [2][2]byte{{a.Q1Ratio, b.Q1Ratio}, {a.Q2Ratio, b.Q2Ratio}} {
		qd := modDiff(int(q[0]), int(q[1]), 16)
		if qd <= 1 {
			diff += qd
		} else {
			diff += (qd - 1) * 12
		}
	}
	if a.Checksum != b.Checksum {
		diff++
	}
	for i := range codeSize {
		x, y := a.Code[i], b.Code[i]
		for range 4 {
			d := int(x&3) - int(y&3)
			if d < 0 {
				d = -d
			}
			if d == 3 {
				d = 6 // opposite extremes weigh more than two small steps
			}
			diff += d
			x >>= 2
			y >>= 2
		}
	}
	return diff
}
