// Runs on: control thread.
#include "conf/diagnostics.h"

#include <utility>

namespace kadp::conf {

void Diagnostics::error(const SourceLoc& loc, std::string message)
{
    all_.push_back({loc, Severity::error, std::move(message)});
    ++errors_;
}

void Diagnostics::warning(const SourceLoc& loc, std::string message)
{
    all_.push_back({loc, Severity::warning, std::move(message)});
}

void Diagnostics::security_violation(const SourceLoc& loc, std::string message)
{
    warning(loc, std::move(message));
    ++security_violations_;
}

std::string Diagnostics::format(const Diagnostic& d)
{
    std::string out;
    if (!d.loc.file.empty()) {
        out += d.loc.file;
        if (d.loc.line > 0) {
            out += ':';
            out += std::to_string(d.loc.line);
        }
        out += ": ";
    }
    out += d.severity == Severity::error ? "error: " : "warning: ";
    out += d.message;
    return out;
}

}  // namespace kadp::conf
