// Password-manager databases and exports. Written for Exhibit.

rule keepass_database
{
    meta:
        description = "KeePass database (KDBX 2-4 or KeePass 1.x KDB signature)"
        author = "Exhibit project"
        reference = "https://keepass.info/help/kb/kdbx_4.html"
        severity = "medium"
    condition:
        uint32(0) == 0x9AA2D903 and (uint32(4) == 0xB54BFB67 or uint32(4) == 0xB54BFB65)
}

rule onepassword_export
{
    meta:
        description = "1Password export (1PUX archive or legacy 1PIF file)"
        author = "Exhibit project"
        reference = "https://support.1password.com/1pux-format/"
        severity = "high"
    strings:
        $zip = { 50 4B 03 04 }
        $attributes = "export.attributes"
        $data = "export.data"
        $pif = "***5642bee8-a5ff-11dc-8314-0800200c9a66***"
    condition:
        ($zip at 0 and $attributes and $data) or $pif
}

rule bitwarden_export
{
    meta:
        description = "Bitwarden vault export (JSON or CSV)"
        author = "Exhibit project"
        reference = "https://bitwarden.com/help/export-your-data/"
        severity = "high"
    strings:
        $json1 = "\"encrypted\""
        $json2 = "\"folders\""
        $json3 = "\"items\""
        $json4 = "\"organizationId\""
        $protected = "\"encKeyValidation_DO_NOT_EDIT\""
        $csv = "folder,favorite,type,name,notes,fields"
    condition:
        all of ($json*) or $protected or $csv at 0
}
