#include "coord/zk_convert.h"

namespace gregor::coord::detail {

std::error_code from_zk(int rc) {
    switch (rc) {
        case ZNONODE:
            return make_error_code(errc::no_node);
        case ZNODEEXISTS:
            return make_error_code(errc::node_exists);
        case ZBADVERSION:
            return make_error_code(errc::bad_version);
        case ZNOTEMPTY:
            return make_error_code(errc::not_empty);
        case ZNOCHILDRENFOREPHEMERALS:
            return make_error_code(errc::no_children_for_ephemerals);
        case ZCONNECTIONLOSS:
            return make_error_code(errc::connection_loss);
        case ZSESSIONEXPIRED:
            return make_error_code(errc::session_expired);
        case ZOPERATIONTIMEOUT:
            return make_error_code(errc::operation_timeout);
        case ZRUNTIMEINCONSISTENCY:
            return make_error_code(errc::runtime_inconsistency);
        case ZBADARGUMENTS:
            return make_error_code(errc::bad_arguments);
        // The handle is closing or already unusable: the session is over for this client.
        case ZCLOSING:
        case ZINVALIDSTATE:
            return make_error_code(errc::session_expired);
        default:
            return make_error_code(errc::system_error);
    }
}

znode_stat from_zk(const struct Stat& s) {
    znode_stat out;
    out.czxid = zxid{s.czxid};
    out.mzxid = zxid{s.mzxid};
    out.pzxid = zxid{s.pzxid};
    out.version = model::zk_version{s.version};
    out.cversion = s.cversion;
    out.ephemeral_owner = session_id{s.ephemeralOwner};
    out.data_length = s.dataLength;
    out.num_children = s.numChildren;
    return out;
}

int to_zk_mode(create_mode m) {
    switch (m) {
        case create_mode::persistent:
            return ZOO_PERSISTENT;
        case create_mode::ephemeral:
            return ZOO_EPHEMERAL;
        case create_mode::persistent_sequential:
            return ZOO_PERSISTENT_SEQUENTIAL;
        case create_mode::ephemeral_sequential:
            return ZOO_EPHEMERAL_SEQUENTIAL;
    }
    GREGOR_UNREACHABLE("create_mode {}", static_cast<int>(m));
}

std::optional<session_state> session_state_from_zk(int state) {
    if (state == ZOO_CONNECTED_STATE) {
        return session_state::connected;
    }
    if (state == ZOO_EXPIRED_SESSION_STATE) {
        return session_state::expired;
    }
    if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE ||
        state == ZOO_NOTCONNECTED_STATE) {
        return session_state::disconnected;
    }
    return std::nullopt;
}

}  // namespace gregor::coord::detail
