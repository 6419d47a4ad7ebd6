/*
 * Hide 'N Seek. Written for kansoku from public write-ups (Bitdefender,
 * 2018): a custom P2P IoT bot that carries web exploits for several device
 * families in clear text. This rule is heuristic: it wants HNS's mix of
 * embedded exploit requests together with a peer list marker.
 */

rule HideNSeek_Exploits
{
    meta:
        family = "hidenseek"
        description = "HNS-style bundle of clear-text IoT exploit requests plus P2P"
        author = "kansoku"
        confidence = "low"
    strings:
        $e1 = "/cgi-bin/supervisor/CloudSetup.cgi?exefile="
        $e2 = "setup.cgi?next_file=netgear.cfg&todo=syscmd"
        $e3 = "NewNTPServer1"
        $e4 = "/shell?"
        $e5 = "POST /GponForm/diag_Form?images/"
        $e6 = "/_users/org.couchdb.user:"
        $p1 = "hide and seek" nocase
        $p2 = "hns" fullword nocase
    condition:
        uint32(0) == 0x464c457f and 3 of ($e*) and 1 of ($p*)
}
