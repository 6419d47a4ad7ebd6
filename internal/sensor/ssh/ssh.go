// Package ssh is the SSH IoT honeypot: an SSH server (golang.org/x/crypto/ssh)
// that announces the version string and algorithms of the device profile's
// daemon (Dropbear on most IoT devices), applies the credential policy to
// password and keyboard-interactive logins, records the client's version
// and HASSH fingerprint, and runs the emulated BusyBox shell for shell and
// exec requests. Port forwarding and subsystems are recorded and refused:
// it never forwards anything.
package ssh

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
	"golang.org/x/crypto/ssh"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "ssh", Transport: "tcp", DefaultListen: "127.0.0.1:2222", Enabled: true,
		Summary: "SSH IoT honeypot: device daemon identity, credential capture, BusyBox shell, malware download",
		Example: iot.ExampleYAML,
		New:     New,
	})
}

// Sensor is an SSH sensor instance.
type Sensor struct {
	b        *iot.Base
	keys     []ssh.Signer
	kex      []string
	ciphers  []string
	macs     []string
	version  string
	maxTries int
}

var _ sensor.StreamSensor = (*Sensor)(nil)

// New builds the sensor from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	b, err := iot.New("ssh", env, decode)
	if err != nil {
		return nil, err
	}
	p := b.Device.Profile.SSH
	// one device, one set of keys: each profile of an install has its own
	keySeed := append(append([]byte(nil), env.Seed...), "/profile/"+b.Device.Profile.Name...)
	keys, err := hostKeys(keySeed, p.HostKeyTypes)
	if err != nil {
		return nil, fmt.Errorf("ssh: host keys: %w", err)
	}
	s := &Sensor{b: b, keys: keys, version: p.Version, maxTries: 10}
	s.kex, s.ciphers, s.macs = Algorithms(p)
	if isOpenSSH(p.Version) {
		s.maxTries = 6
	}
	return s, nil
}

func isOpenSSH(v string) bool { return len(v) > 15 && v[:15] == "SSH-2.0-OpenSSH" }

// Algorithms returns the profile daemon's KEX, cipher and MAC lists, in
// its order, limited to what x/crypto/ssh implements (it cannot speak
// e.g. twofish or kexguess2); an empty result falls back to the library's
// defaults.
func Algorithms(p profile.SSH) (kex, ciphers, macs []string) {
	sup, ins := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms()
	keep := func(want, a, b []string) []string {
		var out []string
		for _, w := range want {
			if slices.Contains(a, w) || slices.Contains(b, w) {
				out = append(out, w)
			}
		}
		return out
	}
	// x/crypto implements the libssh alias of curve25519-sha256 without
	// listing it (and adds it after curve25519-sha256 if missing).
	kexAlso := append(ins.KeyExchanges, "curve25519-sha256@libssh.org")
	return keep(p.KEX, sup.KeyExchanges, kexAlso), keep(p.Ciphers, sup.Ciphers, ins.Ciphers), keep(p.MACs, sup.MACs, ins.MACs)
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "ssh" }

// Base is the shared instance state (device, policy), for tests and tools.
func (t *Sensor) Base() *iot.Base { return t.b }

// HostKeys are the installation's host keys.
func (t *Sensor) HostKeys() []ssh.Signer { return t.keys }

func (t *Sensor) serverConfig(ctx context.Context, conv *iot.Conv) *ssh.ServerConfig {
	seenKeys := map[string]bool{}
	cfg := &ssh.ServerConfig{
		// Offered like the real daemons do and always refused; each key a
		// client tries is recorded once (the library asks twice per key).
		PublicKeyCallback: func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			fp := ssh.FingerprintSHA256(key)
			if !seenKeys[fp] && len(seenKeys) < 32 {
				seenKeys[fp] = true
				conv.PublicKey(ctx, m.User(), key.Type(), base64.StdEncoding.EncodeToString(key.Marshal()), fp, ssh.FingerprintLegacyMD5(key))
			}
			return nil, errDenied
		},
		Config:        ssh.Config{KeyExchanges: t.kex, Ciphers: t.ciphers, MACs: t.macs},
		ServerVersion: t.version,
		MaxAuthTries:  t.maxTries,
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if conv.Login(ctx, m.User(), string(pw), "password") {
				return &ssh.Permissions{}, nil
			}
			return nil, errDenied
		},
		KeyboardInteractiveCallback: func(m ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := ask("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(ans) != 1 {
				return nil, errDenied
			}
			if conv.Login(ctx, m.User(), ans[0], "keyboard-interactive") {
				return &ssh.Permissions{}, nil
			}
			return nil, errDenied
		},
	}
	if !isOpenSSH(t.version) {
		// Dropbear offers publickey and password only (x/crypto lists
		// them as "password,publickey"; Dropbear's order is the reverse).
		cfg.KeyboardInteractiveCallback = nil
	}
	for _, k := range t.keys {
		cfg.AddHostKey(k)
	}
	return cfg
}

type deniedError struct{}

func (deniedError) Error() string { return "permission denied" }

var errDenied error = deniedError{}
