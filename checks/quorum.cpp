// Runs on: control thread.
#include "checks/quorum.h"

namespace kadp::chk {

Quorum::Result Quorum::update(long weight, bool init)
{
    // The bound moves away from the current state by the hysteresis, so a
    // weight hovering at the quorum does not flap.
    const long threshold = up_ ? long{quorum_} - hysteresis_ : long{quorum_} + hysteresis_;
    Result r{Change::none, threshold, weight};
    if (!up_ && weight >= threshold) {
        up_ = true;
        sorry_serving_ = false;
        r.change = Change::gained;
    } else if ((up_ && (weight == 0 || weight < threshold)) || (init && !up_ && has_sorry_ && !sorry_serving_)) {
        up_ = false;
        sorry_serving_ = has_sorry_;
        r.change = Change::lost;
    }
    return r;
}

void Quorum::reconfigure(int quorum, int hysteresis, bool has_sorry)
{
    quorum_ = quorum;
    hysteresis_ = hysteresis;
    has_sorry_ = has_sorry;
    if (!has_sorry) sorry_serving_ = false;
}

}  // namespace kadp::chk
