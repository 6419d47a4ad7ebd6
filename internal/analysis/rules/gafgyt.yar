/*
 * Gafgyt / Bashlite / Qbot. Written for kansoku from public write-ups of
 * the leaked Bashlite source: IRC-like C2 verbs, flood names and the
 * "bins.sh" downloader scripts that fetch one build per architecture.
 */

rule Gafgyt_Bot
{
    meta:
        family = "gafgyt"
        description = "Bashlite/Gafgyt bot command strings"
        author = "kansoku"
    strings:
        $c1 = "PING" fullword
        $c2 = "PONG!"
        $c3 = "GETLOCALIP"
        $c4 = "SCANNER ON"
        $c5 = "SCANNER OFF"
        $c6 = "KILLATTK"
        $c7 = "LOLNOGTFO"
        $c8 = "HOLD" fullword
        $c9 = "JUNK" fullword
        $c10 = "UDP" fullword
        $c11 = "TCP" fullword
        $c12 = "STD" fullword
        $c13 = "HTTPFLOOD"
        $c14 = "BOGOMIPS"
        $c15 = "[%s] Connected"
    condition:
        uint32(0) == 0x464c457f and 5 of them
}

rule Gafgyt_Dropper_Script
{
    meta:
        family = "gafgyt"
        description = "bins.sh-style dropper: cd to a writable dir, fetch a build per arch, run it"
        author = "kansoku"
    strings:
        $cd1 = "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /"
        $cd2 = "cd /tmp; cd /var/run; cd /mnt"
        $get = /(wget|curl|tftp|ftpget)[^\n]{1,200}(mips|mpsl|mipsel|arm4|arm5|arm6|arm7|armv[4-7]l|sh4|ppc|m68k|x86|i686|sparc|spc)/
        $run = /chmod (\+x|777) [^\n]{1,100};\s*\.\/[^\n]{1,100}/
        $rm  = "rm -rf"
    condition:
        uint32(0) != 0x464c457f and filesize < 200KB and (1 of ($cd*)) and #get >= 3 and $run and $rm
}
