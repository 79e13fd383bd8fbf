// Runs on: any. IPv4/IPv6 addresses and prefixes as the configuration names
// them; family-generic from the start (IPv6 comes next).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kadp::conf {

struct IpAddr {
    enum class Family : std::uint8_t { none, v4, v6 };
    Family family = Family::none;
    std::array<std::uint8_t, 16> bytes{};  // network order; v4 uses the first 4

    [[nodiscard]] bool is_v4() const { return family == Family::v4; }
    [[nodiscard]] bool is_v6() const { return family == Family::v6; }
    [[nodiscard]] bool empty() const { return family == Family::none; }
    [[nodiscard]] std::uint32_t v4_host_order() const;
    [[nodiscard]] std::string to_string() const;
    static IpAddr from_v4_host_order(std::uint32_t a);
    static std::optional<IpAddr> parse(std::string_view text);
    friend bool operator==(const IpAddr&, const IpAddr&) = default;
    friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

struct IpPrefix {
    IpAddr addr;
    int length = 0;  // 32/128 when the text had no "/len"
    [[nodiscard]] std::string to_string() const;
    // "ADDR" or "ADDR/LEN"; rejects a length out of range for the family.
    static std::optional<IpPrefix> parse(std::string_view text);
    friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace kadp::conf
