// Tor and anonymity tools. Written for Exhibit.

rule tor_browser_files
{
    meta:
        description = "Tor Browser profile, preferences or launcher files"
        author = "Exhibit project"
        reference = "https://tb-manual.torproject.org/"
        severity = "medium"
    strings:
        $p1 = "extensions.torlauncher." ascii wide
        $p2 = "extensions.torbutton." ascii wide
        $p3 = "torbrowser.version" ascii wide
        $p4 = "TorBrowser/Data/Tor" ascii wide
        $p5 = "TorBrowser\\Data\\Tor" ascii wide
    condition:
        any of them
}

rule torrc_config
{
    meta:
        description = "Tor configuration (torrc): hidden services, bridges or client ports"
        author = "Exhibit project"
        reference = "https://2019.www.torproject.org/docs/tor-manual.html"
        severity = "medium"
    strings:
        $d1 = "\nHiddenServiceDir "
        $d2 = "\nHiddenServicePort "
        $d3 = "\nUseBridges "
        $d4 = "\nClientTransportPlugin "
        $d5 = "\nSocksPort "
        $d6 = "\nControlPort "
        $d7 = "\nExitNodes "
        $d8 = "\nBridge "
    condition:
        2 of them or (filename == "torrc" and 1 of them)
}

rule onion_address
{
    meta:
        description = "Tor onion service address (v3, 56 characters, or legacy v2, 16 characters)"
        author = "Exhibit project"
        reference = "https://spec.torproject.org/rend-spec/encoding-onion-addresses.html"
        severity = "medium"
    strings:
        $onion = /[^a-z2-7][a-z2-7]{16}([a-z2-7]{40})?\.onion/ ascii wide
    condition:
        $onion
}
