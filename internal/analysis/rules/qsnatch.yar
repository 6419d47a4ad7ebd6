/*
 * QSnatch-style shell malware on QNAP NAS. Written for kansoku from the
 * public CISA/NCSC joint alert (2020): it blocks QNAP update hosts through
 * /etc/hosts, persists via autorun.sh and cron, and lives under .qpkg.
 */

rule QSnatch_Style_Script
{
    meta:
        family = "qsnatch"
        description = "QNAP-targeting script: hosts-file blocking of updates plus persistence"
        author = "kansoku"
    strings:
        $hosts  = "/etc/hosts"
        $q1 = "update.qnap.com"
        $q2 = "download.qnap.com"
        $q3 = "eu1.qnap.com"
        $q4 = "qnap.com.cn"
        $p1 = "autorun.sh"
        $p2 = "crontab"
        $p3 = "/etc/config/crontab"
        $p4 = ".qpkg"
        $p5 = "/mnt/HDA_ROOT"
        $p6 = "CACHEDEV1_DATA"
    condition:
        uint32(0) != 0x464c457f and filesize < 1MB and $hosts and 2 of ($q*) and 2 of ($p*)
}
