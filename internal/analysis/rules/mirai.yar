/*
 * Mirai and close descendants. Written for kansoku from the public Mirai
 * source (2016) and public write-ups: the XOR-encoded string table of
 * table.c, the watchdog/killer/scanner strings and the attack module names.
 */

rule Mirai_XOR_Table
{
    meta:
        family = "mirai"
        description = "Mirai-style string table: known entries XORed with one byte"
        author = "kansoku"
    strings:
        $busybox  = "/bin/busybox" xor(0x01-0xff)
        $watchdog = "/dev/watchdog" xor(0x01-0xff)
        $misc     = "/dev/misc/watchdog" xor(0x01-0xff)
        $tsource  = "TSource Engine Query" xor(0x01-0xff)
        $ncorrect = "ncorrect" xor(0x01-0xff)
        $proc_tcp = "/proc/net/tcp" xor(0x01-0xff)
        $resolv   = "/etc/resolv.conf" xor(0x01-0xff)
    condition:
        uint32(0) == 0x464c457f and 3 of them
}

rule Mirai_Plain_Strings
{
    meta:
        family = "mirai"
        description = "Mirai variants that keep their table in clear text"
        author = "kansoku"
    strings:
        $w1 = "/dev/watchdog"
        $w2 = "/dev/misc/watchdog"
        $t1 = "TSource Engine Query"
        $s1 = "/bin/busybox MIRAI"
        $s2 = "MIRAI: applet not found"
        $s3 = "dvrHelper"
        $s4 = "LCOGQGPTGP"
        $s5 = "abcdefghijklmnopqrstuvw012345678"
        $s6 = "/proc/net/tcp"
        $a1 = "udpplain"
        $a2 = "greeth"
        $a3 = "http flood"
    condition:
        uint32(0) == 0x464c457f and (($w1 or $w2) and $t1 and 1 of ($s*) or 4 of ($s*, $a*))
}
