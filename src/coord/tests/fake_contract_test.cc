// Goal: the in-memory fake_client satisfies the coord::client contract.
// Method: instantiate the shared typed suite (client_contract.h) with an Env over one
// fake_ensemble, delivering callbacks by draining the ensemble by hand.
#include "coord/fake_client.h"
#include "coord/tests/client_contract.h"

namespace gregor::coord::contract {
namespace {

struct fake_env {
    fake_ensemble ensemble;

    std::unique_ptr<client> make_client(const std::string& chroot) {
        auto c =
            std::unique_ptr<fake_client>(new fake_client(ensemble, fake_client_options{chroot}));
        ensemble.run_pending();  // deliver `connected`
        return c;
    }
    bool run_until(const std::function<bool()>& pred) {
        while (!pred()) {
            if (ensemble.run_pending() == 0) {
                return pred();
            }
        }
        return true;
    }
    void expire(client& c) { dynamic_cast<fake_client&>(c).expire_session(); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(fake, client_contract, fake_env);

}  // namespace gregor::coord::contract
