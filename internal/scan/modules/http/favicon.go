package http

import (
	"encoding/base64"
	"encoding/binary"
	"math/bits"
)

// Murmur3 is MurmurHash3 x86_32.
func Murmur3(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data)
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
		data = data[4:]
	}
	var k uint32
	switch len(data) {
	case 3:
		k ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(data[0])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(n)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// FaviconHash computes the favicon hash the way Shodan does, so users can
// pivot on it there: Python's base64.encodebytes (a newline after every 76
// characters and at the end), then mmh3.hash, a signed 32-bit MurmurHash3.
func FaviconHash(icon []byte) int32 {
	enc := base64.StdEncoding.EncodeToString(icon)
	b := make([]byte, 0, len(enc)+len(enc)/76+1)
	for len(enc) > 76 {
		b = append(b, enc[:76]...)
		b = append(b, '\n')
		enc = enc[76:]
	}
	b = append(b, enc...)
	b = append(b, '\n')
	return int32(Murmur3(b, 0))
}
