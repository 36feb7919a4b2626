// Private key material. Written for Exhibit.

rule pgp_private_key
{
    meta:
        description = "OpenPGP private key (ASCII-armored block or GnuPG private-keys-v1.d key)"
        author = "Exhibit project"
        reference = "https://www.rfc-editor.org/rfc/rfc4880#section-6.2"
        severity = "high"
    strings:
        $armor = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
        $gnupg1 = "(21:protected-private-key"
        $gnupg2 = "(11:private-key"
        $gnupg3 = "Key: (protected-private-key"
    condition:
        $armor or $gnupg1 at 0 or $gnupg2 at 0 or $gnupg3
}

rule openssh_private_key
{
    meta:
        description = "OpenSSH private key (openssh-key-v1 format)"
        author = "Exhibit project"
        reference = "https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key"
        severity = "high"
    strings:
        $begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
        $magic = "b3BlbnNzaC1rZXktdjE"
    condition:
        $begin or $magic
}

rule putty_private_key
{
    meta:
        description = "PuTTY private key file (.ppk)"
        author = "Exhibit project"
        reference = "https://the.earth.li/~sgtatham/putty/0.78/htmldoc/AppendixC.html"
        severity = "high"
    strings:
        $ppk = "PuTTY-User-Key-File-"
        $private = "Private-Lines:"
    condition:
        $ppk at 0 and $private
}

rule pem_private_key
{
    meta:
        description = "PEM private key (RSA, EC, DSA, PKCS#8 or encrypted PKCS#8)"
        author = "Exhibit project"
        reference = "https://www.rfc-editor.org/rfc/rfc7468#section-10"
        severity = "high"
    strings:
        $rsa = "-----BEGIN RSA PRIVATE KEY-----"
        $ec = "-----BEGIN EC PRIVATE KEY-----"
        $dsa = "-----BEGIN DSA PRIVATE KEY-----"
        $pkcs8 = "-----BEGIN PRIVATE KEY-----"
        $enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
    condition:
        any of them
}
