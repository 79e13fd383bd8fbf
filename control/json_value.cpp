// Runs on: any.
#include "control/json_value.h"

#include <charconv>
#include <cstring>

namespace kadp::ctl {

class JsonParser {
public:
    explicit JsonParser(std::string_view s) : s_(s) {}

    std::optional<JsonValue> document(std::string& error) {
        JsonValue v;
        if (!value(v, 0)) {
            error = "offset " + std::to_string(pos_) + ": " + error_;
            return std::nullopt;
        }
        skip_ws();
        if (pos_ != s_.size()) {
            error = "offset " + std::to_string(pos_) + ": text after the document";
            return std::nullopt;
        }
        return v;
    }

private:
    bool fail(const char* what) {
        error_ = what;
        return false;
    }
    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    }
    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return fail("unexpected character");
        pos_ += word.size();
        return true;
    }

    bool value(JsonValue& v, int depth) {
        if (depth > JsonValue::kMaxDepth) return fail("nested too deeply");
        skip_ws();
        if (pos_ >= s_.size()) return fail("unexpected end");
        const char c = s_[pos_];
        switch (c) {
        case '{': return object(v, depth);
        case '[': return array(v, depth);
        case '"': v.type_ = JsonValue::Type::string; return string(v.text_);
        case 't': v.type_ = JsonValue::Type::boolean; v.bool_ = true; return literal("true");
        case 'f': v.type_ = JsonValue::Type::boolean; v.bool_ = false; return literal("false");
        case 'n': v.type_ = JsonValue::Type::null; return literal("null");
        default: break;
        }
        if (c == '-' || (c >= '0' && c <= '9')) return number(v);
        return fail("unexpected character");
    }

    bool number(JsonValue& v) {
        const std::size_t start = pos_;
        if (s_[pos_] == '-') ++pos_;
        auto digits = [&] {
            const std::size_t d = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
            return pos_ > d;
        };
        if (!digits()) return fail("bad number");
        if (pos_ < s_.size() && s_[pos_] == '.') {
            ++pos_;
            if (!digits()) return fail("bad number");
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            if (!digits()) return fail("bad number");
        }
        v.type_ = JsonValue::Type::number;
        v.text_ = std::string(s_.substr(start, pos_ - start));
        return true;
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    bool hex4(std::uint32_t& cp) {
        if (pos_ + 4 > s_.size()) return fail("bad \\u escape");
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = s_[pos_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= static_cast<std::uint32_t>(h - 'A' + 10);
            else return fail("bad \\u escape");
        }
        return true;
    }

    bool string(std::string& out) {
        ++pos_;  // the opening quote
        for (;;) {
            if (pos_ >= s_.size()) return fail("unterminated string");
            const char c = s_[pos_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) return fail("unterminated string");
            const char e = s_[pos_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(cp)) return false;
                if (cp >= 0xd800 && cp <= 0xdbff && s_.substr(pos_, 2) == "\\u") {
                    pos_ += 2;
                    std::uint32_t lo = 0;
                    if (!hex4(lo)) return false;
                    if (lo < 0xdc00 || lo > 0xdfff) return fail("bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xd800 && cp <= 0xdfff) {
                    cp = 0xfffd;
                }
                append_utf8(out, cp);
                break;
            }
            default: return fail("bad escape");
            }
        }
    }

    bool array(JsonValue& v, int depth) {
        ++pos_;
        v.type_ = JsonValue::Type::array;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            JsonValue item;
            if (!value(item, depth + 1)) return false;
            v.items_.push_back(std::move(item));
            skip_ws();
            if (pos_ >= s_.size()) return fail("unterminated array");
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == ']') {
                ++pos_;
                return true;
            }
            return fail("expected , or ]");
        }
    }

    bool object(JsonValue& v, int depth) {
        ++pos_;
        v.type_ = JsonValue::Type::object;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a key");
            std::string key;
            if (!string(key)) return false;
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected :");
            ++pos_;
            JsonValue member;
            if (!value(member, depth + 1)) return false;
            bool replaced = false;
            for (auto& [k, existing] : v.members_) {
                if (k == key) {
                    existing = std::move(member);
                    replaced = true;
                    break;
                }
            }
            if (!replaced) v.members_.emplace_back(std::move(key), std::move(member));
            skip_ws();
            if (pos_ >= s_.size()) return fail("unterminated object");
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == '}') {
                ++pos_;
                return true;
            }
            return fail("expected , or }");
        }
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    const char* error_ = "";
};

std::optional<JsonValue> JsonValue::parse(std::string_view text, std::string& error) {
    return JsonParser(text).document(error);
}

const JsonValue* JsonValue::get(std::string_view key) const {
    if (type_ != Type::object) return nullptr;
    for (const auto& [k, v] : members_)
        if (k == key) return &v;
    return nullptr;
}

std::optional<std::uint64_t> JsonValue::as_u64() const {
    if (type_ != Type::number) return std::nullopt;
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
    if (ec != std::errc{} || p != text_.data() + text_.size()) return std::nullopt;
    return v;
}

std::optional<std::int64_t> JsonValue::as_i64() const {
    if (type_ != Type::number) return std::nullopt;
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
    if (ec != std::errc{} || p != text_.data() + text_.size()) return std::nullopt;
    return v;
}

std::string JsonValue::str(std::string_view key, std::string fallback) const {
    const JsonValue* v = get(key);
    return v != nullptr && v->is_string() ? v->text_ : fallback;
}

std::uint64_t JsonValue::u64(std::string_view key, std::uint64_t fallback) const {
    const JsonValue* v = get(key);
    if (v == nullptr) return fallback;
    return v->as_u64().value_or(fallback);
}

std::int64_t JsonValue::i64(std::string_view key, std::int64_t fallback) const {
    const JsonValue* v = get(key);
    if (v == nullptr) return fallback;
    return v->as_i64().value_or(fallback);
}

bool JsonValue::boolean(std::string_view key, bool fallback) const {
    const JsonValue* v = get(key);
    return v != nullptr && v->is_bool() ? v->bool_ : fallback;
}

}  // namespace kadp::ctl
