package devicefarm

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// Service is one open port of a device.
type Service struct {
	Transport string `json:"transport"` // "tcp" or "udp"
	Port      uint16 `json:"port"`
	Proto     string `json:"proto"` // telnet, ssh, http, https, modbus, ftp, dns, ntp, ssdp, memcached, chargen, snmp
}

// Device is one fake device and its ground truth.
type Device struct {
	IP         netip.Addr `json:"ip"`
	Template   string     `json:"template"`
	Vendor     string     `json:"vendor,omitempty"`
	Product    string     `json:"product"`
	DeviceType string     `json:"device_type"`
	Class      string     `json:"class,omitempty"` // "critical" for monitoring/control devices
	Site       string     `json:"site,omitempty"`  // the facility name a deployment customised
	Lang       string     `json:"lang,omitempty"`
	Services   []Service  `json:"services"`

	// Per-device variation.
	readings    []float64
	serial      string
	sshVersion  string
	telnetStyle int
	modbusSplit bool
}

// template is one kind of device the farm deploys.
type template struct {
	id, vendor, product, deviceType, class, lang string
	weight                                       int
	services                                     func(r *rand.Rand) []Service
	site                                         func(r *rand.Rand) string
}

func tcp(port uint16, proto string) Service {
	return Service{Transport: "tcp", Port: port, Proto: proto}
}
func udp(port uint16, proto string) Service {
	return Service{Transport: "udp", Port: port, Proto: proto}
}

func maybe(r *rand.Rand, p float64, s Service) []Service {
	if r.Float64() < p {
		return []Service{s}
	}
	return nil
}

func join(parts ...[]Service) []Service {
	var out []Service
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var (
	rivers   = []string{"荒", "多摩", "利根", "信濃", "木曽", "長良", "揖斐", "淀", "吉野", "筑後", "四万十", "最上", "北上", "阿武隈", "天竜", "大井", "富士", "神通", "黒部", "九頭竜", "由良", "紀の", "熊野", "江の", "太田", "高梁", "旭", "仁淀", "肱", "大淀", "球磨", "川内", "石狩", "十勝", "釧路", "天塩", "雄物", "米代", "鬼怒", "相模"}
	jaPlaces = []string{"上流", "中流", "下流", "橋本", "新田", "本町", "大橋", "中央", "東", "西", "南", "北", "第一", "第二", "第三", "河口", "合流点", "堰上", "堰下", "観音寺"}
	damNames = []string{"黒部", "奥只見", "佐久間", "御母衣", "宮ヶ瀬", "小河内", "矢木沢", "早明浦", "徳山", "田子倉", "夕張シューパロ", "温井", "浦山", "滝沢", "八ッ場", "草木", "下久保", "奈良俣", "玉川", "寒河江", "胆沢", "鳴子", "釜房", "七ヶ宿", "摺上川", "三春", "川治", "五十里", "湯田", "御所"}
	dirs     = []string{"North", "South", "East", "West", "Upper", "Lower", "Central", "Old Mill"}
	waters   = []string{"Reservoir", "Canal", "Weir", "Creek", "Harbor", "Lagoon", "Basin", "Sluice", "Polder", "Estuary"}
	places   = []string{"Kitakami", "Hanamaki", "Tsukuba", "Mito", "Kofu", "Matsumoto", "Toyama", "Fukui", "Tottori", "Kochi", "Saga", "Oita", "Miyazaki", "Nago", "Obihiro", "Kushiro", "Akita", "Yamagata", "Iwaki", "Ashikaga", "Kiryu", "Chichibu", "Ome", "Atsugi", "Numazu", "Ise", "Tsu", "Hikone", "Maizuru", "Ako"}
)

var templates = []template{
	{id: "suii-logger", vendor: "Kansoku Keiki", product: "SL-200 water level logger", deviceType: "data-logger", class: "critical", lang: "ja", weight: 14,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http")}, maybe(r, 0.4, tcp(21, "ftp")), maybe(r, 0.3, tcp(23, "telnet")))
		},
		site: func(r *rand.Rand) string {
			return rivers[r.IntN(len(rivers))] + "川" + jaPlaces[r.IntN(len(jaPlaces))] + "水位観測所"
		}},
	{id: "aquagate", vendor: "AquaGate Systems", product: "AquaGate GC-3 gate controller", deviceType: "water-gate-monitor", class: "critical", lang: "en", weight: 12,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http"), tcp(502, "modbus")}, maybe(r, 0.3, tcp(23, "telnet")))
		},
		site: func(r *rand.Rand) string {
			return fmt.Sprintf("%s %s Gate %d", dirs[r.IntN(len(dirs))], waters[r.IntN(len(waters))], 1+r.IntN(9))
		}},
	{id: "damview", vendor: "Hokuriku Denki", product: "DamView DM-10", deviceType: "dam-monitor", class: "critical", lang: "ja", weight: 8,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http")}, maybe(r, 0.5, tcp(502, "modbus")))
		},
		site: func(r *rand.Rand) string {
			return damNames[r.IntN(len(damNames))] + "ダム" + []string{"", "第二", "第三", "上", "下"}[r.IntN(5)] + "管理所"
		}},
	{id: "solareye", vendor: "SolarEye", product: "SolarEye PV-Monitor", deviceType: "power-monitor", class: "critical", lang: "en", weight: 8,
		services: func(r *rand.Rand) []Service { return join([]Service{tcp(80, "http")}, maybe(r, 0.3, tcp(21, "ftp"))) },
		site: func(r *rand.Rand) string {
			return fmt.Sprintf("%s Solar Power Plant No.%d", places[r.IntN(len(places))], 1+r.IntN(12))
		}},
	{id: "contrix-plc", vendor: "Contrix", product: "CX-500 PLC", deviceType: "plc", class: "critical", lang: "en", weight: 5,
		services: func(r *rand.Rand) []Service { return []Service{tcp(80, "http"), tcp(502, "modbus")} }},
	{id: "wr-router", vendor: "Wirelink", product: "WR-940 router", deviceType: "router", lang: "en", weight: 16,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http"), tcp(23, "telnet")}, maybe(r, 0.5, tcp(22, "ssh")), maybe(r, 0.4, udp(161, "snmp")), maybe(r, 0.4, udp(1900, "ssdp")))
		},
	},
	{id: "ipcam", product: "Boa-based IP camera", deviceType: "camera", lang: "en", weight: 10,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http")}, maybe(r, 0.6, tcp(23, "telnet")), maybe(r, 0.3, udp(1900, "ssdp")))
		}},
	{id: "storebox-nas", vendor: "StoreBox", product: "StoreBox NAS", deviceType: "nas", lang: "en", weight: 8,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http"), tcp(443, "https"), tcp(22, "ssh")}, maybe(r, 0.6, tcp(21, "ftp")))
		}},
	{id: "linux-server", product: "nginx", deviceType: "server", lang: "en", weight: 9,
		services: func(r *rand.Rand) []Service {
			return join([]Service{tcp(80, "http"), tcp(22, "ssh")}, maybe(r, 0.5, udp(53, "dns")), maybe(r, 0.5, udp(123, "ntp")),
				maybe(r, 0.3, udp(11211, "memcached")), maybe(r, 0.2, udp(19, "chargen")))
		}},
}

// emptyShare is the share of addresses with no device at all.
const emptyShare = 0.15

// Generate lays out count addresses from base deterministically from seed:
// the same arguments always give the same devices, sites and banners.
func Generate(base netip.Prefix, count int, seed uint64) ([]*Device, error) {
	base = base.Masked()
	if !base.Addr().Is4() || !base.Addr().IsLoopback() {
		return nil, fmt.Errorf("devicefarm: base %s must be inside 127.0.0.0/8", base)
	}
	if size := 1 << (32 - base.Bits()); count < 1 || count > size-2 {
		return nil, fmt.Errorf("devicefarm: count %d does not fit %s", count, base)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x6b616e736f6b75))
	total := 0
	for _, t := range templates {
		total += t.weight
	}
	usedSites := map[string]bool{}
	var out []*Device
	a := base.Addr().Next() // skip the network address
	for i := 0; i < count; i, a = i+1, a.Next() {
		if r.Float64() < emptyShare {
			continue
		}
		pick := r.IntN(total)
		var t template
		for _, t = range templates {
			if pick < t.weight {
				break
			}
			pick -= t.weight
		}
		d := &Device{
			IP: a, Template: t.id, Vendor: t.vendor, Product: t.product, DeviceType: t.deviceType,
			Class: t.class, Lang: t.lang, Services: t.services(r),
			serial:      fmt.Sprintf("%c%c%06d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(1000000)),
			telnetStyle: r.IntN(3),
			modbusSplit: r.IntN(2) == 0,
		}
		for range 4 {
			d.readings = append(d.readings, float64(r.IntN(100000))/100)
		}
		d.sshVersion = []string{"SSH-2.0-dropbear_2019.78", "SSH-2.0-dropbear_2022.83", "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}[r.IntN(4)]
		if t.site != nil {
			s := t.site(r)
			for n := 2; usedSites[s]; n++ {
				s = fmt.Sprintf("%s %d", t.site(r), n)
			}
			usedSites[s] = true
			d.Site = s
		}
		out = append(out, d)
	}
	return out, nil
}
