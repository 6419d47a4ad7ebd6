package web

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// SamplePassword is the field's convention for malware ZIPs.
const SamplePassword = "infected"

// zipCrypto is PKWARE's traditional ("ZipCrypto") stream cipher, APPNOTE
// 6.1. It is weak, and that is fine: the password is public; it only
// keeps mail filters and antivirus from acting on a sample in transit.
type zipCrypto struct{ k0, k1, k2 uint32 }

func crcUpdate(crc uint32, b byte) uint32 { return crc32.IEEETable[byte(crc)^b] ^ crc>>8 }

func newZipCrypto(password string) *zipCrypto {
	z := &zipCrypto{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		z.update(password[i])
	}
	return z
}

func (z *zipCrypto) update(b byte) {
	z.k0 = crcUpdate(z.k0, b)
	z.k1 = (z.k1+z.k0&0xff)*134775813 + 1
	z.k2 = crcUpdate(z.k2, byte(z.k1>>24))
}

func (z *zipCrypto) stream() byte {
	t := z.k2 | 2
	return byte((t * (t ^ 1)) >> 8)
}

func (z *zipCrypto) encrypt(dst, src []byte) {
	for i, p := range src {
		dst[i] = p ^ z.stream()
		z.update(p)
	}
}

// WriteEncryptedZip writes one file, deflated and ZipCrypto-encrypted with
// password, as a ZIP archive that unzip -P and 7z open.
func WriteEncryptedZip(w io.Writer, name string, data []byte, password string, mod time.Time) error {
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	if _, err := fw.Write(data); err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	crc := crc32.ChecksumIEEE(data)
	// The 12-byte encryption header: random bytes, then the CRC's high byte
	// so that readers can check the password.
	hdr := make([]byte, 12)
	if _, err := rand.Read(hdr[:11]); err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	hdr[11] = byte(crc >> 24)
	out := make([]byte, 12+comp.Len())
	z := newZipCrypto(password)
	z.encrypt(out[:12], hdr)
	z.encrypt(out[12:], comp.Bytes())
	zw := zip.NewWriter(w)
	fh := &zip.FileHeader{Name: name, Method: zip.Deflate, Flags: 0x1, CRC32: crc,
		CompressedSize64: uint64(len(out)), UncompressedSize64: uint64(len(data)), Modified: mod.UTC()}
	fh.SetMode(0o644)
	raw, err := zw.CreateRaw(fh)
	if err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	if _, err := raw.Write(out); err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("web: zip: %w", err)
	}
	return nil
}
