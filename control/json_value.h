// Runs on: any (kadpctl reads the daemon's replies; tests). A small JSON
// reader, the counterpart of conf/json_writer.h: parses one document into a
// tree. Numbers keep their text, so 64-bit counters survive exactly (a
// double would round them above 2^53); object members keep the document's
// order (a repeated key: the last value, in the first one's place). Depth
// and size are bounded by the caller's input; nesting deeper than kMaxDepth
// is an error.
#pragma once

#include <cstdint>
#include <utility>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kadp::ctl {

class JsonValue {
public:
    enum class Type { null, boolean, number, string, array, object };
    static constexpr int kMaxDepth = 64;

    // nullopt and `error` ("offset N: what") when `text` is not one JSON
    // document (trailing whitespace allowed).
    static std::optional<JsonValue> parse(std::string_view text, std::string& error);

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::null; }
    bool is_object() const { return type_ == Type::object; }
    bool is_array() const { return type_ == Type::array; }
    bool is_string() const { return type_ == Type::string; }
    bool is_number() const { return type_ == Type::number; }
    bool is_bool() const { return type_ == Type::boolean; }

    // Members of an object (nullptr when absent or not an object).
    const JsonValue* get(std::string_view key) const;
    const std::vector<JsonValue>& items() const { return items_; }  // array elements
    const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }  // in order

    // Typed reads with a fallback for absent or mistyped values.
    std::string str(std::string_view key, std::string fallback = {}) const;
    std::uint64_t u64(std::string_view key, std::uint64_t fallback = 0) const;
    std::int64_t i64(std::string_view key, std::int64_t fallback = 0) const;
    bool boolean(std::string_view key, bool fallback = false) const;

    // This value itself.
    const std::string& text() const { return text_; }  // string contents or number text
    bool as_bool() const { return bool_; }
    std::optional<std::uint64_t> as_u64() const;
    std::optional<std::int64_t> as_i64() const;

private:
    friend class JsonParser;
    Type type_ = Type::null;
    bool bool_ = false;
    std::string text_;
    std::vector<JsonValue> items_;
    std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace kadp::ctl
