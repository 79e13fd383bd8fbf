// Runs on: any (used by the control thread: `kadp --dump-config`, the kadpctl
// socket). A small streaming JSON writer: the caller opens objects and
// arrays, names keys and writes values; the writer handles commas,
// indentation and escaping. Header-only so every library can use it without
// a link dependency.
//
//     JsonWriter w;                        // pretty, 2-space indent
//     w.begin_object();
//     w.key("port").value(80);
//     w.key("tags").begin_array().value("a").value(0.1).end_array();
//     w.end_object();
//     std::string text = w.take();         // {"port": 80, "tags": ["a", 0.1]}, pretty-printed
//
// Output is always valid UTF-8 JSON: control characters are escaped, valid
// UTF-8 passes through unchanged, invalid bytes become U+FFFD, NaN and
// infinities become null. Numbers never depend on the locale.
#pragma once

#include <cassert>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace kadp::conf {

// Appends `s` as a JSON string literal (with the quotes) to `out`.
inline void json_append_string(std::string& out, std::string_view s)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {  // DEL is legal JSON but unreadable on a terminal
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
            }
            ++i;
            continue;
        }
        // A multi-byte UTF-8 sequence: copy it when well formed (no overlongs,
        // no surrogates, at most U+10FFFF), otherwise replace one byte.
        std::size_t len = 0;
        std::uint32_t min = 0;
        std::uint32_t cp = 0;
        if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; cp = c & 0x1fu; }
        else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; cp = c & 0x0fu; }
        else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; cp = c & 0x07u; }
        bool ok = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) ok = false;
            cp = (cp << 6) | (cc & 0x3fu);
        }
        if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xef\xbf\xbd";  // U+FFFD
            ++i;
        }
    }
    out += '"';
}

// Appends a number the way JSON wants it: shortest text that reads back to
// the same double (0.1 -> "0.1", 5.0 -> "5"), never locale-dependent; NaN
// and infinities, which JSON cannot express, become null.
inline void json_append_number(std::string& out, double v)
{
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    if (v == 0) v = 0;  // -0 prints as 0
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    assert(ec == std::errc{});  // 64 bytes always suffice
    (void)ec;
    out.append(buf, p);
}

template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
void json_append_number(std::string& out, T v)
{
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    assert(ec == std::errc{});
    (void)ec;
    out.append(buf, p);
}

class JsonWriter {
public:
    // indent: spaces per level; 0 writes compact JSON on one line.
    explicit JsonWriter(int indent = 2) : indent_(indent) {}

    JsonWriter& begin_object() { return open('{'); }
    JsonWriter& end_object() { return close('}'); }
    JsonWriter& begin_array() { return open('['); }
    JsonWriter& end_array() { return close(']'); }

    // Inside an object: the key of the next value.
    JsonWriter& key(std::string_view k)
    {
        assert(!stack_.empty() && stack_.back().object && !key_pending_);
        separator();
        json_append_string(out_, k);
        out_ += indent_ > 0 ? ": " : ":";
        key_pending_ = true;
        return *this;
    }

    JsonWriter& value(std::string_view s)
    {
        before_value();
        json_append_string(out_, s);
        return *this;
    }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    // Without this a string literal would pick the bool overload.
    JsonWriter& value(const char* s) { return s ? value(std::string_view(s)) : null(); }
    JsonWriter& value(bool b)
    {
        before_value();
        out_ += b ? "true" : "false";
        return *this;
    }
    JsonWriter& value(double d)
    {
        before_value();
        json_append_number(out_, d);
        return *this;
    }
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char>)
    JsonWriter& value(T v)
    {
        before_value();
        json_append_number(out_, v);
        return *this;
    }
    // An optional: its value, or null when empty.
    template <class T>
    JsonWriter& value(const std::optional<T>& v)
    {
        return v ? value(*v) : null();
    }
    JsonWriter& null()
    {
        before_value();
        out_ += "null";
        return *this;
    }
    // Text that is already valid JSON (a nested document), inserted as one value.
    JsonWriter& raw(std::string_view json)
    {
        before_value();
        out_.append(json);
        return *this;
    }

    // Shorthands for `key(k).value(v)`.
    template <class T>
    JsonWriter& member(std::string_view k, const T& v)
    {
        key(k);
        return value(v);
    }
    JsonWriter& member_null(std::string_view k) { return key(k).null(); }

    // True once the top-level value is complete.
    [[nodiscard]] bool done() const { return stack_.empty() && wrote_root_; }
    [[nodiscard]] const std::string& str() const { return out_; }
    std::string take()
    {
        std::string s = std::move(out_);
        out_.clear();
        stack_.clear();
        key_pending_ = false;
        wrote_root_ = false;
        return s;
    }

private:
    struct Level {
        bool object;
        bool has_items = false;
    };

    void newline_indent()
    {
        if (indent_ <= 0) return;
        out_ += '\n';
        out_.append(stack_.size() * static_cast<std::size_t>(indent_), ' ');
    }

    // Comma and line break before an item (an array value or an object key).
    void separator()
    {
        Level& l = stack_.back();
        if (l.has_items) out_ += ',';
        l.has_items = true;
        newline_indent();
    }

    void before_value()
    {
        if (stack_.empty()) {
            assert(!wrote_root_ && "one top-level value per document");
            wrote_root_ = true;
            return;
        }
        if (stack_.back().object) {
            assert(key_pending_ && "an object value needs a key first");
            key_pending_ = false;
            return;
        }
        separator();
    }

    JsonWriter& open(char c)
    {
        before_value();
        out_ += c;
        stack_.push_back(Level{c == '{'});
        return *this;
    }

    JsonWriter& close(char c)
    {
        assert(!stack_.empty() && stack_.back().object == (c == '}') && !key_pending_);
        const bool had_items = stack_.back().has_items;
        stack_.pop_back();
        if (had_items) newline_indent();  // empty containers stay "{}" / "[]"
        out_ += c;
        return *this;
    }

    int indent_;
    std::string out_;
    std::vector<Level> stack_;
    bool key_pending_ = false;
    bool wrote_root_ = false;
};

}  // namespace kadp::conf
