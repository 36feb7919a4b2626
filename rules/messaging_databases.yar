// Messaging application databases. Written for Exhibit.

rule whatsapp_msgstore
{
    meta:
        description = "WhatsApp Android message store (msgstore.db, SQLite)"
        author = "Exhibit project"
        reference = "https://faq.whatsapp.com/"
        severity = "medium"
    strings:
        $sqlite = "SQLite format 3\x00"
        $old = "key_remote_jid"
        $new1 = "chat_row_id"
        $new2 = "sender_jid_row_id"
    condition:
        $sqlite at 0 and ($old or ($new1 and $new2))
}

rule whatsapp_encrypted_backup
{
    meta:
        description = "WhatsApp encrypted backup named msgstore*.db.cryptNN"
        author = "Exhibit project"
        reference = "https://faq.whatsapp.com/"
        severity = "medium"
    condition:
        filename matches /^msgstore[-0-9.]*\.db\.crypt[0-9]{1,2}$/
}

rule signal_data
{
    meta:
        description = "Signal Desktop database or key file, or a Signal Android backup"
        author = "Exhibit project"
        reference = "https://github.com/signalapp/Signal-Desktop"
        severity = "medium"
    strings:
        $sqlite = "SQLite format 3\x00"
        $t1 = "sticker_packs"
        $t2 = "conversations"
        $t3 = "unprocessed"
    condition:
        filepath matches /\/Signal\/(sql\/db\.sqlite|config\.json)$/ or
        filename matches /^signal-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.backup$/ or
        ($sqlite at 0 and all of ($t*))
}

rule telegram_data
{
    meta:
        description = "Telegram Desktop tdata file (TDF$ magic) or Telegram Android cache4.db"
        author = "Exhibit project"
        reference = "https://github.com/telegramdesktop/tdesktop"
        severity = "medium"
    strings:
        $tdf = "TDF$"
        $sqlite = "SQLite format 3\x00"
        $t1 = "enc_chats"
        $t2 = "messages_v2"
        $t3 = "dialogs"
    condition:
        $tdf at 0 or ($sqlite at 0 and $t1 and ($t2 or $t3))
}

rule sqlite_message_tables
{
    meta:
        description = "SQLite database with a message, chat or SMS table"
        author = "Exhibit project"
        reference = "https://www.sqlite.org/fileformat.html"
        severity = "low"
    strings:
        $sqlite = "SQLite format 3\x00"
        $table = /CREATE TABLE (IF NOT EXISTS )?["'`\[]?(messages?|chats?|sms|conversations?|message_v2|messages_v2)["'`\]]? ?\(/ nocase
    condition:
        $sqlite at 0 and $table
}
