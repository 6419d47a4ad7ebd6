package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"

	"golang.org/x/crypto/ssh"
)

// hostKeys derives the installation's host keys from its seed, so keys are
// stable across restarts and differ between installations. Only the key
// types the profile's daemon offers are made, each restricted to the
// signature algorithms the profile lists.
func hostKeys(seed []byte, types []string) ([]ssh.Signer, error) {
	var out []ssh.Signer
	var rsaAlgs []string
	for _, t := range types {
		switch t {
		case "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512":
			rsaAlgs = append(rsaAlgs, t)
		}
	}
	if slices.Contains(types, "ssh-ed25519") {
		k := ed25519.NewKeyFromSeed(derive(seed, "ed25519"))
		s, err := ssh.NewSignerFromKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if slices.Contains(types, "ecdsa-sha2-nistp256") {
		k, err := ecdsaKey(seed)
		if err != nil {
			return nil, err
		}
		s, err := ssh.NewSignerFromKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(rsaAlgs) > 0 || len(out) == 0 {
		if len(rsaAlgs) == 0 {
			rsaAlgs = []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}
		}
		k, err := rsaKey(seed)
		if err != nil {
			return nil, err
		}
		s, err := ssh.NewSignerFromKey(k)
		if err != nil {
			return nil, err
		}
		as, err := ssh.NewSignerWithAlgorithms(s.(ssh.AlgorithmSigner), rsaAlgs)
		if err != nil {
			return nil, err
		}
		out = append(out, as)
	}
	return out, nil
}

func derive(seed []byte, label string) []byte {
	h := sha256.New()
	h.Write([]byte("kansoku/ssh/hostkey/" + label + "\x00"))
	h.Write(seed)
	return h.Sum(nil)
}

func ecdsaKey(seed []byte) (*ecdsa.PrivateKey, error) {
	d := derive(seed, "ecdsa-p256")
	for i := 0; i < 100; i++ {
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err == nil {
			return k, nil
		}
		d = derive(d, "ecdsa-p256-retry")
	}
	return nil, errors.New("ssh: cannot derive an ecdsa key")
}

var (
	rsaMu    sync.Mutex
	rsaCache = map[[32]byte]*rsa.PrivateKey{}
)

// rsaKey derives a 2048-bit RSA key from seed: primes are searched from a
// ChaCha8 stream keyed by the seed (crypto/rsa's GenerateKey does not take
// a deterministic source). Keys are cached: the search takes a moment.
func rsaKey(seed []byte) (*rsa.PrivateKey, error) {
	var key [32]byte
	copy(key[:], derive(seed, "rsa-2048"))
	rsaMu.Lock()
	defer rsaMu.Unlock()
	if k, ok := rsaCache[key]; ok {
		return k, nil
	}
	r := rand.New(rand.NewChaCha8(key))
	e := big.NewInt(65537)
	one := big.NewInt(1)
	prime := func() *big.Int {
		b := make([]byte, 128)
		for {
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			b[0] |= 0xc0 // top two bits: the product has exactly 2048 bits
			b[127] |= 1
			p := new(big.Int).SetBytes(b)
			if !p.ProbablyPrime(32) {
				continue
			}
			if new(big.Int).GCD(nil, nil, e, new(big.Int).Sub(p, one)).Cmp(one) == 0 {
				return p
			}
		}
	}
	p, q := prime(), prime()
	for p.Cmp(q) == 0 {
		q = prime()
	}
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
	d := new(big.Int).ModInverse(e, phi)
	if d == nil {
		return nil, errors.New("ssh: rsa: no inverse")
	}
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
	k.Precompute()
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("ssh: rsa: %w", err)
	}
	rsaCache[key] = k
	return k, nil
}
