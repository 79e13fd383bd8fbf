// Runs on: control thread. keepalived's quorum of one virtual_server, as a
// pure state: the weights of its live real servers against `quorum`, with
// `hysteresis` either side. Quorum is gained when the live weight reaches
// quorum + hysteresis (while lost), and lost when it falls below
// quorum - hysteresis or to 0 (while held). While it is lost, a configured
// sorry_server serves in place of the live servers (the backends read that
// from DesiredState::quorum_lost()). HealthCheckers owns one per
// virtual_server and runs quorum_up / quorum_down on each change.
#pragma once

namespace kadp::chk {

class Quorum {
public:
    enum class Change { none, gained, lost };
    struct Result {
        Change change = Change::none;
        long threshold = 0;  // the bound that was crossed (or tested)
        long weight = 0;     // the live weight judged
    };

    // At start: held when the live weight reaches quorum + hysteresis.
    Quorum(int quorum, int hysteresis, bool has_sorry, long weight)
        : quorum_(quorum), hysteresis_(hysteresis), has_sorry_(has_sorry), up_(weight >= quorum + hysteresis) {}

    // The live weight moved (a server went up or down, or its weight
    // changed). `init`: at start and after a reload, when a lost quorum
    // also brings in a sorry server that is not serving yet ("Starting with
    // quorum down").
    Result update(long weight, bool init);

    // Reload: new settings, the state carries over (a sorry server removed
    // from the configuration no longer serves).
    void reconfigure(int quorum, int hysteresis, bool has_sorry);

    bool up() const { return up_; }
    // The sorry server is in the pool in place of the live servers.
    bool sorry_serving() const { return sorry_serving_; }
    int quorum() const { return quorum_; }
    int hysteresis() const { return hysteresis_; }

private:
    int quorum_;
    int hysteresis_;
    bool has_sorry_;
    bool up_;
    bool sorry_serving_ = false;
};

}  // namespace kadp::chk
