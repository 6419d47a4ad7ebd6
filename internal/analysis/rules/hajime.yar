/*
 * Hajime. Written for kansoku from public analyses (Rapidity Networks 2016,
 * Symantec and Kaspersky 2017): a P2P worm on the BitTorrent DHT that
 * prints a signed "white hat" message and blocks ports used by Mirai.
 */

rule Hajime_Worm
{
    meta:
        family = "hajime"
        description = "Hajime author message and DHT/uTP peer traffic"
        author = "kansoku"
    strings:
        $msg1 = "Just a white hat, securing some systems."
        $msg2 = "Important messages will be signed like this!"
        $msg3 = "Hajime Author."
        $msg4 = "Stay sharp!"
        $dht  = "d1:ad2:id20:"
        $port = /iptables -A INPUT -p tcp --dport (23|7547|5555|5358) -j DROP/
    condition:
        2 of ($msg*) or (1 of ($msg*) and ($dht or #port >= 2))
}
