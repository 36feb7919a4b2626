// Cryptocurrency wallets and seed material. Written for Exhibit.

rule bitcoin_core_wallet_bdb
{
    meta:
        description = "Bitcoin Core wallet.dat (Berkeley DB btree with wallet record names)"
        author = "Exhibit project"
        reference = "https://github.com/bitcoin/bitcoin/blob/master/src/wallet/walletdb.cpp"
        severity = "high"
    strings:
        $k1 = "\x04ckey"
        $k2 = "\x04mkey"
        $k3 = "\x07keymeta"
        $k4 = "\x0adefaultkey"
        $k5 = "\x09bestblock"
        $k6 = "\x0aminversion"
        $k7 = "\x07hdchain"
        $k8 = "\x03key"
    condition:
        uint32(12) == 0x00053162 and 2 of them
}

rule bitcoin_core_wallet_sqlite
{
    meta:
        description = "Bitcoin Core descriptor wallet (SQLite with walletdescriptor records)"
        author = "Exhibit project"
        reference = "https://github.com/bitcoin/bitcoin/blob/master/doc/descriptors.md"
        severity = "high"
    strings:
        $sqlite = "SQLite format 3\x00"
        $d1 = "walletdescriptorkey"
        $d2 = "walletdescriptorcache"
        $d3 = "walletdescriptor"
    condition:
        $sqlite at 0 and any of ($d*)
}

rule electrum_wallet
{
    meta:
        description = "Electrum wallet file (JSON with seed_version and keystore or wallet_type)"
        author = "Exhibit project"
        reference = "https://electrum.readthedocs.io/en/latest/"
        severity = "high"
    strings:
        $seed = "\"seed_version\""
        $a = "\"wallet_type\""
        $b = "\"keystore\""
        $c = "\"addr_history\""
    condition:
        $seed and any of ($a, $b, $c)
}

rule electrum_encrypted_wallet
{
    meta:
        description = "Password-encrypted Electrum wallet (base64 of the BIE1 ECIES header)"
        author = "Exhibit project"
        reference = "https://electrum.readthedocs.io/en/latest/"
        severity = "high"
    strings:
        $bie1 = "QklFMQ"
    condition:
        $bie1 at 0 and filesize < 50MB
}

rule bip39_seed_phrase
{
    meta:
        description = "Text that names a seed, mnemonic or recovery phrase followed by 12 to 24 lowercase words"
        author = "Exhibit project"
        reference = "https://github.com/bitcoin/bips/blob/master/bip-0039.mediawiki"
        severity = "high"
    strings:
        $phrase = /([Ss]eed|[Mm]nemonic|[Rr]ecovery|[Bb]ackup)( [Pp]hrase| [Ww]ords)?[:=\-\s]{1,6}[a-z]{3,8}( [a-z]{3,8}){11,23}/ ascii wide
    condition:
        $phrase
}
