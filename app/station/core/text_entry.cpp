#include "exhibit/station/text_entry.hpp"

namespace exhibit::station {

namespace {

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::string upper_ascii(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
}

Key ins(std::string text, float width = 1.0f) {
    Key k;
    k.label = text;
    k.text = std::move(text);
    k.width = width;
    return k;
}

Key act(std::string label, KeyAction action, float width) {
    Key k;
    k.label = std::move(label);
    k.action = action;
    k.width = width;
    return k;
}

Key to_layout(std::string label, KeyboardLayout to, float width) {
    Key k = act(std::move(label), KeyAction::Layout, width);
    k.to = to;
    return k;
}

std::vector<Key> row_of(std::string_view chars) {
    std::vector<Key> row;
    for (char c : chars)
        row.push_back(ins(std::string(1, c)));
    return row;
}

std::vector<std::vector<Key>> make_letters() {
    std::vector<std::vector<Key>> rows;
    rows.push_back(row_of("1234567890"));
    rows.push_back(row_of("qwertyuiop"));
    rows.push_back(row_of("asdfghjkl"));
    rows.back().push_back(ins("-"));
    rows.push_back({act("Shift", KeyAction::Shift, 1.5f)});
    for (Key& k : row_of("zxcvbnm"))
        rows.back().push_back(std::move(k));
    rows.back().push_back(ins("/"));
    rows.back().push_back(act("Back", KeyAction::Backspace, 1.5f));
    rows.push_back({to_layout("#+=", KeyboardLayout::Symbols, 1.5f),
                    to_layout("123", KeyboardLayout::Numeric, 1.5f), ins(".", 1.0f),
                    act("Space", KeyAction::Insert, 3.0f), ins("_", 1.0f),
                    act("<", KeyAction::Left, 1.0f), act(">", KeyAction::Right, 1.0f)});
    rows.back()[3].text = " ";
    rows.push_back({act("Clear", KeyAction::Clear, 2.0f), act("Cancel", KeyAction::Cancel, 3.0f),
                    act("Done", KeyAction::Done, 5.0f)});
    return rows;
}

std::vector<std::vector<Key>> make_symbols() {
    std::vector<std::vector<Key>> rows;
    rows.push_back(row_of("1234567890"));
    rows.push_back(row_of("@#&*()+=:;"));
    rows.push_back(row_of(",'\"!?%$[]"));
    rows.push_back({to_layout("abc", KeyboardLayout::Letters, 1.5f), ins("-"), ins("/"), ins("."),
                    ins("_"), act("Back", KeyAction::Backspace, 1.5f)});
    rows.push_back({act("Space", KeyAction::Insert, 4.0f), act("<", KeyAction::Left, 1.0f),
                    act(">", KeyAction::Right, 1.0f)});
    rows.back()[0].text = " ";
    rows.push_back({act("Clear", KeyAction::Clear, 2.0f), act("Cancel", KeyAction::Cancel, 3.0f),
                    act("Done", KeyAction::Done, 5.0f)});
    return rows;
}

std::vector<std::vector<Key>> make_numeric() {
    std::vector<std::vector<Key>> rows;
    rows.push_back(row_of("789"));
    rows.push_back(row_of("456"));
    rows.push_back(row_of("123"));
    rows.push_back({ins("-"), ins("0"), ins("/")});
    rows.push_back(
        {to_layout("abc", KeyboardLayout::Letters, 1.5f), act("Back", KeyAction::Backspace, 1.5f)});
    rows.push_back({act("Cancel", KeyAction::Cancel, 1.5f), act("Done", KeyAction::Done, 1.5f)});
    return rows;
}

}  // namespace

TextEdit::TextEdit(std::string text, std::size_t max_bytes)
    : text_(std::move(text)), max_bytes_(max_bytes) {
    if (text_.size() > max_bytes_) max_bytes_ = text_.size();
    cursor_ = text_.size();
}

bool TextEdit::insert(std::string_view utf8) {
    if (utf8.empty() || text_.size() + utf8.size() > max_bytes_) return false;
    for (char c : utf8) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) return false;
    }
    text_.insert(cursor_, utf8);
    cursor_ += utf8.size();
    return true;
}

void TextEdit::backspace() {
    if (cursor_ == 0) return;
    std::size_t start = cursor_ - 1;
    while (start > 0 && is_continuation(text_[start]))
        --start;
    text_.erase(start, cursor_ - start);
    cursor_ = start;
}

void TextEdit::delete_forward() {
    if (cursor_ >= text_.size()) return;
    std::size_t stop = cursor_ + 1;
    while (stop < text_.size() && is_continuation(text_[stop]))
        ++stop;
    text_.erase(cursor_, stop - cursor_);
}

void TextEdit::left() {
    if (cursor_ == 0) return;
    --cursor_;
    while (cursor_ > 0 && is_continuation(text_[cursor_]))
        --cursor_;
}

void TextEdit::right() {
    if (cursor_ >= text_.size()) return;
    ++cursor_;
    while (cursor_ < text_.size() && is_continuation(text_[cursor_]))
        ++cursor_;
}

void TextEdit::clear() {
    text_.clear();
    cursor_ = 0;
}

const std::vector<std::vector<Key>>& keyboard_rows(KeyboardLayout layout) {
    static const auto letters = make_letters();
    static const auto symbols = make_symbols();
    static const auto numeric = make_numeric();
    switch (layout) {
        case KeyboardLayout::Symbols:
            return symbols;
        case KeyboardLayout::Numeric:
            return numeric;
        case KeyboardLayout::Letters:
            break;
    }
    return letters;
}

std::string key_label(const Key& key, const KeyboardState& state) {
    if (key.action == KeyAction::Insert && (state.shift || state.caps) && key.label.size() == 1)
        return upper_ascii(key.label);
    if (key.action == KeyAction::Shift && state.caps) return "CAPS";
    return key.label;
}

KeyResult press(const Key& key, TextEdit& edit, KeyboardState& state) {
    switch (key.action) {
        case KeyAction::Insert: {
            bool upper = state.shift || state.caps;
            state.shift = false;
            return edit.insert(upper ? upper_ascii(key.text) : key.text) ? KeyResult::Edited
                                                                         : KeyResult::Unchanged;
        }
        case KeyAction::Backspace:
            if (edit.cursor() == 0) return KeyResult::Unchanged;
            edit.backspace();
            return KeyResult::Edited;
        case KeyAction::Clear:
            if (edit.text().empty()) return KeyResult::Unchanged;
            edit.clear();
            return KeyResult::Edited;
        case KeyAction::Shift:
            // Off -> one-shot shift -> caps lock -> off.
            if (state.caps) {
                state.caps = false;
            } else if (state.shift) {
                state.shift = false;
                state.caps = true;
            } else {
                state.shift = true;
            }
            return KeyResult::Unchanged;
        case KeyAction::Left:
            edit.left();
            return KeyResult::Unchanged;
        case KeyAction::Right:
            edit.right();
            return KeyResult::Unchanged;
        case KeyAction::Layout:
            state.layout = key.to;
            return KeyResult::Unchanged;
        case KeyAction::Done:
            return KeyResult::Done;
        case KeyAction::Cancel:
            return KeyResult::Cancel;
    }
    return KeyResult::Unchanged;
}

}  // namespace exhibit::station
