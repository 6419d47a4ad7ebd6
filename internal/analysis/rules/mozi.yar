/*
 * Mozi. Written for kansoku from public analyses (360 Netlab, 2019-2020):
 * a P2P botnet on the BitTorrent DHT whose signed config carries
 * bracketed markers such as [ss], [dip], [hp], [cpu], [atk], [ud].
 */

rule Mozi_Config_DHT
{
    meta:
        family = "mozi"
        description = "Mozi config markers and DHT bootstrap"
        author = "kansoku"
    strings:
        $m1 = "[ss]"
        $m2 = "[dip]"
        $m3 = "[hp]"
        $m4 = "[cpu]"
        $m5 = "[atk]"
        $m6 = "[ud]"
        $m7 = "[rn]"
        $m8 = "[idp]"
        $d1 = "d1:ad2:id20:"
        $d2 = "dht.transmissionbt.com"
        $d3 = "router.bittorrent.com"
        $d4 = "router.utorrent.com"
        $d5 = "bttracker.debian.org"
        $n1 = "Mozi.m"
        $n2 = "Mozi.a"
        $n3 = "/usr/networks"
    condition:
        uint32(0) == 0x464c457f and (4 of ($m*) and 1 of ($d*) or 2 of ($n*) and 1 of ($d*, $m*))
}
