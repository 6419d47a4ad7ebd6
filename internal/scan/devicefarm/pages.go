package devicefarm

import (
	"crypto/sha256"
	"fmt"
	"html"
	"strings"
)

// page is an HTTP answer of a fake device.
type page struct {
	status  int
	headers map[string]string
	body    []byte
}

// favicon returns a small deterministic ICO-shaped blob per template; a
// template without one answers 404.
func favicon(templateID string) []byte {
	switch templateID {
	case "ipcam", "linux-server":
		return nil
	}
	// ICONDIR + one ICONDIRENTRY header, then pseudo pixel data from a hash
	// of the template id: unique per template, equal across its sites.
	b := []byte{0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 0x68, 4, 0, 0, 22, 0, 0, 0}
	seed := sha256.Sum256([]byte("favicon:" + templateID))
	for len(b) < 1150 {
		seed = sha256.Sum256(seed[:])
		b = append(b, seed[:]...)
	}
	return b[:1150]
}

const readingsNote = "<!-- values refresh every 60 s -->"

func esc(s string) string { return html.EscapeString(s) }

func render(d *Device, path string) page {
	if path == "/favicon.ico" {
		if ico := favicon(d.Template); ico != nil {
			return page{200, map[string]string{"Content-Type": "image/x-icon"}, ico}
		}
		return page{404, map[string]string{"Content-Type": "text/html"}, []byte("<html><body><h1>404 Not Found</h1></body></html>")}
	}
	if path != "/" && path != "/index.html" {
		return page{404, map[string]string{"Content-Type": "text/html"}, []byte("<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>")}
	}
	r := d.readings
	switch d.Template {
	case "suii-logger":
		return page{200, map[string]string{"Server": "SL-httpd/2.1", "Content-Type": "text/html; charset=utf-8"}, []byte(fmt.Sprintf(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>%[1]s - 水位観測データロガー SL-200</title>
<link rel="icon" href="/favicon.ico"><style>body{font-family:sans-serif}td{padding:4px}</style></head>
<body><div id="hdr"><img src="/logo.gif" alt="logo"><span class="sys">水位観測データロガー SL-200</span></div>
<h1>%[1]s</h1>
<table class="now"><tr><th>観測項目</th><th>現在値</th></tr>
<tr><td>水位</td><td>%.2[2]f m</td></tr><tr><td>雨量 (10分)</td><td>%.1[3]f mm</td></tr>
<tr><td>電源電圧</td><td>%.2[4]f V</td></tr></table>
<p class="upd">最終更新: 2026-11-25 09:%02[5]d:00</p>%[6]s
<div id="ftr">シリアル番号 %[7]s ・ Kansoku Keiki Co., Ltd.</div></body></html>`, esc(d.Site), r[0]/100, r[1]/1000, 10+r[2]/10000, int(r[3])%60, readingsNote, d.serial))}
	case "aquagate":
		return page{200, map[string]string{"Server": "AquaGate-Web/3.0", "Content-Type": "text/html"}, []byte(fmt.Sprintf(`<!DOCTYPE html>
<html><head><title>%[1]s | AquaGate Gate Monitor</title><link rel="shortcut icon" href="/favicon.ico"></head>
<body><nav><ul><li><a href="/">Status</a></li><li><a href="/trend">Trend</a></li><li><a href="/events">Events</a></li></ul></nav>
<main><h2>Site: %[1]s</h2>
<div class="gauge"><span class="label">Upstream level</span><span class="val">%.2[2]f m</span></div>
<div class="gauge"><span class="label">Downstream level</span><span class="val">%.2[3]f m</span></div>
<div class="gauge"><span class="label">Gate opening</span><span class="val">%.0[4]f %%</span></div>
<p>Controller serial %[5]s</p></main><footer>AquaGate GC-3 firmware 3.0.12</footer></body></html>`, esc(d.Site), r[0]/100, r[1]/200, r[2]/1000, d.serial))}
	case "damview":
		return page{200, map[string]string{"Server": "Apache", "Content-Type": "text/html; charset=utf-8"}, []byte(fmt.Sprintf(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>ダム管理 監視システム</title></head>
<body bgcolor="#e0e8f0"><table width="100%%"><tr><td class="logo">DamView DM-10</td><td class="site">%[1]s</td></tr></table>
<table border="1"><tr><th>貯水位</th><td>EL. %.2[2]f m</td></tr><tr><th>流入量</th><td>%.2[3]f m3/s</td></tr>
<tr><th>放流量</th><td>%.2[4]f m3/s</td></tr><tr><th>貯水率</th><td>%.1[5]f %%</td></tr></table>
<p>ダム管理 監視システム DamView ver 2.4</p></body></html>`, esc(d.Site), 300+r[0]/1000, r[1]/100, r[2]/100, r[3]/1000))}
	case "solareye":
		return page{200, map[string]string{"Server": "lighttpd/1.4.35", "Content-Type": "text/html"}, []byte(fmt.Sprintf(`<!DOCTYPE html>
<html><head><title>SolarEye PV-Monitor - %[1]s</title><link rel="icon" type="image/x-icon" href="/favicon.ico"></head>
<body><header><h1>SolarEye PV-Monitor</h1><h3>%[1]s</h3></header>
<section id="power"><div><b>Output</b> %.1[2]f kW</div><div><b>Today</b> %.1[3]f kWh</div><div><b>Irradiance</b> %.0[4]f W/m2</div></section>
<section id="strings"><table><tr><td>PCS-1</td><td>Running</td></tr><tr><td>PCS-2</td><td>Running</td></tr></table></section>
<footer>Monitoring unit %[5]s</footer></body></html>`, esc(d.Site), r[0]/100, r[1]/10, r[2]/100, d.serial))}
	case "contrix-plc":
		return page{200, map[string]string{"Server": "CX-WebServer/1.2", "Content-Type": "text/html"}, []byte(`<html><head><title>CX-500 Web Server</title><link rel="icon" href="/favicon.ico"></head>
<body><form method="post" action="/login"><h2>CX-500 Controller</h2>
<label>Operator</label><input type="text" name="user"><label>Password</label><input type="password" name="pass">
<input type="submit" value="Login"></form></body></html>`)}
	case "wr-router":
		return page{200, map[string]string{"Server": "httpd", "Content-Type": "text/html"}, []byte(`<!DOCTYPE html><html><head><title>WR-940 Router - Login</title><link rel="icon" href="/favicon.ico"><script>function f(){return true}</script></head>
<body><div class="box"><h3>Wirelink WR-940</h3><form onsubmit="return f()"><input type="text" name="username" placeholder="Username">
<input type="password" name="password" placeholder="Password"><button>Log In</button></form></div></body></html>`)}
	case "ipcam":
		return page{401, map[string]string{"Server": "Boa/0.94.14rc21", "WWW-Authenticate": `Basic realm="IPCam"`, "Content-Type": "text/html"},
			[]byte(`<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY><H1>401 Unauthorized</H1>Your client does not have permission to get URL / from this server.</BODY></HTML>`)}
	case "storebox-nas":
		return page{200, map[string]string{"Server": "nginx", "Content-Type": "text/html"}, []byte(fmt.Sprintf(`<!DOCTYPE html><html><head><title>StoreBox NAS</title><link rel="icon" href="/favicon.ico"></head>
<body class="login"><div id="login"><img src="/img/logo.png"><h2>StoreBox-%s</h2><form><input name="u" type="text"><input name="p" type="password"><button>Sign in</button></form></div></body></html>`, d.serial[:4]))}
	default: // linux-server
		return page{200, map[string]string{"Server": "nginx/1.18.0 (Ubuntu)", "Content-Type": "text/html"}, []byte(nginxDefault)}
	}
}

var nginxDefault = strings.TrimSpace(`
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
    body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
<p><em>Thank you for using nginx.</em></p>
</body>
</html>`)
