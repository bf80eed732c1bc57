// Goal: the real zk_client satisfies the same coord::client contract as the fake, so the
// fake stays faithful to ZooKeeper. Method: the shared typed suite (client_contract.h) run
// against a real ZooKeeper server started by tests/support, one chroot per test.
#include "coord/tests/client_contract.h"
#include "zk_env.h"

namespace gregor::coord::contract {

INSTANTIATE_TYPED_TEST_SUITE_P(zookeeper, client_contract, zk_env);

}  // namespace gregor::coord::contract
