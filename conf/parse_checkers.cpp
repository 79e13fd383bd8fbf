// Runs on: control thread. Checker blocks inside real_server: TCP_CHECK,
// HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK and the other keepalived checkers.
#include "conf/sections.h"

namespace kadp::conf {}  // namespace kadp::conf
