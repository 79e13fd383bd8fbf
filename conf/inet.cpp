// Runs on: any.
#include "conf/inet.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace kadp::conf {

std::uint32_t IpAddr::v4_host_order() const
{
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
           std::uint32_t{bytes[3]};
}

IpAddr IpAddr::from_v4_host_order(std::uint32_t a)
{
    IpAddr ip;
    ip.family = Family::v4;
    ip.bytes[0] = static_cast<std::uint8_t>(a >> 24);
    ip.bytes[1] = static_cast<std::uint8_t>(a >> 16);
    ip.bytes[2] = static_cast<std::uint8_t>(a >> 8);
    ip.bytes[3] = static_cast<std::uint8_t>(a);
    return ip;
}

std::string IpAddr::to_string() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == Family::v4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    else if (family == Family::v6) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text)
{
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    IpAddr ip;
    if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
        ip.family = Family::v4;
        return ip;
    }
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
        ip.family = Family::v6;
        return ip;
    }
    return std::nullopt;
}

std::string IpPrefix::to_string() const { return addr.to_string() + "/" + std::to_string(length); }

std::optional<IpPrefix> IpPrefix::parse(std::string_view text)
{
    auto slash = text.find('/');
    auto addr = IpAddr::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    int max = addr->is_v4() ? 32 : 128;
    int len = max;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
        if (ec != std::errc{} || p != digits.data() + digits.size() || digits.empty() || len < 0 || len > max)
            return std::nullopt;
    }
    return IpPrefix{*addr, len};
}

}  // namespace kadp::conf
