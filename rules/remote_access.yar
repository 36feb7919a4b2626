// Remote-access tools. Written for Exhibit.

rule anydesk_traces
{
    meta:
        description = "AnyDesk configuration or trace log"
        author = "Exhibit project"
        reference = "https://support.anydesk.com/knowledge/trace-files"
        severity = "medium"
    strings:
        $c1 = "ad.anynet.id="
        $c2 = "ad.anynet.pwd_hash="
        $c3 = "ad.anynet.cert="
        $c4 = "ad.roster.items="
        $t1 = "anydesk.exe" nocase ascii wide
    condition:
        any of ($c*) or (filename matches /^ad(_svc)?\.trace$/ and $t1)
}

rule teamviewer_traces
{
    meta:
        description = "TeamViewer logs, connection lists or registry settings"
        author = "Exhibit project"
        reference = "https://www.teamviewer.com/"
        severity = "medium"
    strings:
        $s1 = "TeamViewer_Service.exe" ascii wide nocase
        $s2 = "SOFTWARE\\TeamViewer" ascii wide nocase
        $s3 = "SOFTWARE\\WOW6432Node\\TeamViewer" ascii wide nocase
        $s4 = "TeamViewer15_Logfile" ascii wide nocase
    condition:
        any of them or filename == "Connections_incoming.txt"
}

rule ngrok_config
{
    meta:
        description = "ngrok agent configuration with an auth token"
        author = "Exhibit project"
        reference = "https://ngrok.com/docs/agent/config/"
        severity = "medium"
    strings:
        $auth = /authtoken: ?["']?[A-Za-z0-9_]{20,}/
        $version = /version: ?["']?[23]["']?\s/
        $tunnels = "tunnels:"
    condition:
        $auth and ($version or $tunnels or filename matches /^ngrok\.ya?ml$/)
}
