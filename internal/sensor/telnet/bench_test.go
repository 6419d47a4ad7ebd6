package telnet_test

import (
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// BenchmarkMiraiSession runs one Mirai-loader-like session per iteration:
// login, escapes, 10 probes and a 16 KB echo dropper (bench/iot runs the
// full 60 KB, 492-round-trip version at scale).
func BenchmarkMiraiSession(b *testing.B) {
	in := sensortest.Start(b, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	lines := echoLines(fakeELF(16<<10), 128, "dvrHelper")
	probes := []string{"/bin/busybox ps", "/bin/busybox cat /proc/mounts", "cd /tmp", "/bin/busybox dd bs=52 count=1 if=/bin/echo",
		"/bin/busybox cat /proc/cpuinfo", "/bin/busybox uname -a", "/bin/busybox free", "/bin/busybox df", "/bin/busybox ls /", "/bin/busybox id"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cl := newClient(b, in.Dial(b, ""))
		login(b, cl, "root", "xc3511")
		cl.send("enable\r\nsystem\r\nshell\r\nsh\r\n/bin/busybox ECCHI\r\n")
		cl.expect(notFound)
		for _, p := range probes {
			cl.send(p + "; /bin/busybox ECCHI\r\n")
			cl.expect(notFound)
		}
		for _, l := range lines {
			cl.send(l + "\r\n")
			cl.expect(notFound)
		}
		cl.send("./dvrHelper; /bin/busybox IHCCE\r\n")
		cl.expect("IHCCE")
		cl.c.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*(len(lines)+len(probes)+4))/b.Elapsed().Seconds(), "roundtrips/s")
}
