// Runs on: control thread (the report, after the runs).
// Just enough JSON for one report object: keys in insertion order, numbers,
// strings (escaped), booleans and nested objects.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kadp::bench {

class JsonObject {
public:
    JsonObject& str(std::string_view key, std::string_view v) { return raw(key, quote(v)); }
    JsonObject& num(std::string_view key, std::uint64_t v) { return raw(key, std::to_string(v)); }
    JsonObject& num(std::string_view key, double v, int decimals = 3) {
        if (!std::isfinite(v)) return raw(key, "null");
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
        return raw(key, buf);
    }
    JsonObject& boolean(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
    JsonObject& obj(std::string_view key, const JsonObject& v) { return raw(key, v.dump()); }
    JsonObject& raw(std::string_view key, std::string value) {
        fields_.emplace_back(std::string(key), std::move(value));
        return *this;
    }
    bool empty() const { return fields_.empty(); }

    std::string dump() const {
        std::string out = "{";
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            if (i != 0) out += ", ";
            out += quote(fields_[i].first) + ": " + fields_[i].second;
        }
        return out + "}";
    }

    static std::string quote(std::string_view s) {
        std::string out = "\"";
        for (const char c : s) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out += c;
                }
            }
        }
        return out + "\"";
    }

private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace kadp::bench
