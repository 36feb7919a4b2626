// Editing a text field without a physical keyboard: the on-screen keyboard's layouts and
// what each key does to the text being edited. The physical keyboard feeds the same
// TextEdit (insert / backspace / cursor keys), so both behave identically.
//
//   TextEdit edit(operator_name, 64);
//   for (const auto& row : keyboard_rows(layout, shift)) for (const Key& k : row) ...
//   switch (press(k, edit, state)) { case KeyResult::Done: operator_name = edit.text(); ... }
//
// Text is UTF-8; the cursor is a byte offset that always sits on a code-point boundary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace exhibit::station {

class TextEdit {
  public:
    explicit TextEdit(std::string text = {}, std::size_t max_bytes = 256);

    const std::string& text() const { return text_; }
    std::size_t cursor() const { return cursor_; }
    std::size_t max_bytes() const { return max_bytes_; }

    // Inserts at the cursor; false (nothing changes) when it would exceed max_bytes or
    // `utf8` holds a control character.
    bool insert(std::string_view utf8);
    void backspace();       // deletes the code point before the cursor
    void delete_forward();  // deletes the code point after the cursor
    void left();
    void right();
    void home() { cursor_ = 0; }
    void end() { cursor_ = text_.size(); }
    void clear();

  private:
    std::string text_;
    std::size_t cursor_ = 0;
    std::size_t max_bytes_;
};

enum class KeyboardLayout { Letters, Symbols, Numeric };

enum class KeyAction { Insert, Backspace, Clear, Shift, Left, Right, Layout, Done, Cancel };

struct Key {
    std::string label;  // what the key shows
    KeyAction action = KeyAction::Insert;
    std::string text;  // Insert: the text it types (lower case; Shift upper-cases)
    KeyboardLayout to = KeyboardLayout::Letters;  // Layout: the layout it switches to
    float width = 1.0f;                           // in key units
};

struct KeyboardState {
    KeyboardLayout layout = KeyboardLayout::Letters;
    bool shift = false;  // one-shot: the next letter is upper case
    bool caps = false;   // Shift twice: upper case until Shift again
};

// The rows of a layout. Letters: digits, QWERTY and the separators case references use
// (- / . _); Numeric: a phone-style keypad with - and /. Every layout has Backspace, Done
// and Cancel, and a key to reach the others.
const std::vector<std::vector<Key>>& keyboard_rows(KeyboardLayout layout);

// The label a key shows in `state` (letters upper-cased under Shift or Caps).
std::string key_label(const Key& key, const KeyboardState& state);

enum class KeyResult { Edited, Unchanged, Done, Cancel };

// Applies one key press to `edit`; a one-shot Shift is consumed by the next insert.
KeyResult press(const Key& key, TextEdit& edit, KeyboardState& state);

}  // namespace exhibit::station
