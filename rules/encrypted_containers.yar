// Encrypted disks and containers: the examiner needs a key or a live capture for these.
// Written for Exhibit; each rule has generated positive and negative samples in
// tests/match/yara_rules_test.cpp.
import "math"

rule bitlocker_volume
{
    meta:
        description = "BitLocker-encrypted volume boot sector (-FVE-FS- OEM name)"
        author = "Exhibit project"
        reference = "https://learn.microsoft.com/windows/security/operating-system-security/data-protection/bitlocker/"
        severity = "high"
    strings:
        $fve = "-FVE-FS-"
    condition:
        $fve at 3 and uint16(510) == 0xAA55
}

rule bitlocker_metadata_block
{
    meta:
        description = "BitLocker FVE metadata block (-FVE-FS- signature with version 1 or 2)"
        author = "Exhibit project"
        reference = "https://github.com/libyal/libbde/blob/main/documentation/BitLocker%20Drive%20Encryption%20(BDE)%20format.asciidoc"
        severity = "high"
    strings:
        $fve = { 2D 46 56 45 2D 46 53 2D ( 01 | 02 ) 00 }
    condition:
        $fve and not $fve at 3
}

rule luks_header
{
    meta:
        description = "LUKS encrypted volume header (version 1 or 2)"
        author = "Exhibit project"
        reference = "https://gitlab.com/cryptsetup/cryptsetup/-/wikis/Specification"
        severity = "high"
    strings:
        $luks = { 4C 55 4B 53 BA BE }
    condition:
        $luks at 0 and (uint16be(6) == 1 or uint16be(6) == 2)
}

rule veracrypt_truecrypt_container_candidate
{
    meta:
        description = "File named like a VeraCrypt/TrueCrypt container (.hc/.tc), sector-sized and random from its first byte"
        author = "Exhibit project"
        reference = "https://www.veracrypt.fr/en/VeraCrypt%20Volume%20Format%20Specification.html"
        severity = "medium"
    condition:
        (extension == "hc" or extension == "tc") and filesize >= 299008 and
        filesize % 512 == 0 and math.entropy(0, 4096) >= 7.9
}

rule veracrypt_truecrypt_software
{
    meta:
        description = "VeraCrypt or TrueCrypt program, driver or configuration"
        author = "Exhibit project"
        reference = "https://www.veracrypt.fr/en/Home.html"
        severity = "medium"
    strings:
        $config = "<VeraCrypt>"
        $format1 = "VeraCrypt Format" ascii wide
        $format2 = "TrueCrypt Format" ascii wide
        $driver1 = "veracrypt.sys" ascii wide nocase
        $driver2 = "truecrypt.sys" ascii wide nocase
        $favorites = "<favorite volume" nocase
    condition:
        any of them
}

rule filevault_corestorage
{
    meta:
        description = "Apple Core Storage physical volume header (FileVault 2 on HFS+)"
        author = "Exhibit project"
        reference = "https://github.com/libyal/libfvde/blob/main/documentation/FileVault%20Drive%20Encryption%20(FVDE).asciidoc"
        severity = "high"
    condition:
        uint16(8) == 1 and uint16(10) == 0x0010 and uint16be(88) == 0x4353
}

rule filevault_encrypted_image
{
    meta:
        description = "Apple encrypted disk image or legacy FileVault sparse image (encrcdsa / cdsaencr)"
        author = "Exhibit project"
        reference = "https://github.com/libyal/dtformats/blob/main/documentation/Apple%20Disk%20Image%20(DMG)%20file%20format.asciidoc"
        severity = "high"
    strings:
        $v2 = "encrcdsa"
        $v1 = "cdsaencr"
    condition:
        $v2 at 0 or $v1 at filesize - 8
}
