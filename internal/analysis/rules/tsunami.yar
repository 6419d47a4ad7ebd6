/*
 * Tsunami / Kaiten. Written for kansoku from the public Kaiten IRC bot
 * description: IRC registration lines and the help text of its flood
 * commands (TSUNAMI, PAN, UDP, UNKNOWN) and spoofing controls.
 */

rule Tsunami_Kaiten_IRC
{
    meta:
        family = "tsunami"
        description = "Kaiten IRC bot command set"
        author = "kansoku"
    strings:
        $irc1 = "NICK %s"
        $irc2 = "USER %s"
        $irc3 = "PRIVMSG %s"
        $irc4 = "NOTICE %s"
        $irc5 = "JOIN %s"
        $c1 = "TSUNAMI <target> <secs>"
        $c2 = "PAN <target> <port> <secs>"
        $c3 = "UNKNOWN <target> <secs>"
        $c4 = "GETSPOOFS"
        $c5 = "SPOOFS <subnet>"
        $c6 = "KILLALL"
        $c7 = "Kaiten wa goraku"
        $c8 = "NICK <nick>"
    condition:
        3 of ($irc*) and 2 of ($c*)
}
