// Runs on: control thread (and `kadp -t`). Collects configuration diagnostics
// with the file and line they belong to, so an operator sees exactly where a
// problem is, including inside included files.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace kadp::conf {

struct SourceLoc {
    std::string file;  // as the operator named it (include paths resolved)
    int line = 0;      // 1-based; 0 = no particular line
};

enum class Severity { warning, error };

struct Diagnostic {
    SourceLoc loc;
    Severity severity;
    std::string message;
};

class Diagnostics {
public:
    void error(const SourceLoc& loc, std::string message);
    void warning(const SourceLoc& loc, std::string message);
    // A warning that is also keepalived's script-security violation ("SECURITY
    // VIOLATION - scripts are being executed ..."): `-t` exits 6 for it.
    void security_violation(const SourceLoc& loc, std::string message);

    [[nodiscard]] bool has_errors() const { return errors_ > 0; }
    [[nodiscard]] std::size_t error_count() const { return errors_; }
    [[nodiscard]] std::size_t warning_count() const { return all_.size() - errors_; }
    [[nodiscard]] bool has_security_violation() const { return security_violations_ > 0; }
    [[nodiscard]] const std::vector<Diagnostic>& all() const { return all_; }

    // "FILE:LINE: error: message" (or "FILE: ..." / "error: ..." without a line).
    static std::string format(const Diagnostic& d);

private:
    std::vector<Diagnostic> all_;
    std::size_t errors_ = 0;
    std::size_t security_violations_ = 0;
};

}  // namespace kadp::conf
