/*
 * VPNFilter. Written for kansoku from the public Talos report (2018):
 * stage 2 works under /var/vpnfilter and /var/run/vpnfilterw|m, stage 1
 * fetched its next stage via image EXIF data and the toknowall.com domain.
 */

rule VPNFilter_Stage
{
    meta:
        family = "vpnfilter"
        description = "VPNFilter working paths and stage-1 fallback domain"
        author = "kansoku"
    strings:
        $p1 = "/var/vpnfilter"
        $p2 = "/var/run/vpnfilterw"
        $p3 = "/var/run/vpnfilterm"
        $d1 = "toknowall.com"
        $t1 = "tor_proxy" nocase
        $u1 = "photobucket.com/user/"
    condition:
        uint32(0) == 0x464c457f and (2 of ($p*) or ($d1 and 1 of ($p*, $u1, $t1)))
}
