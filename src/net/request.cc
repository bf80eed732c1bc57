#include "net/request.h"

namespace gregor::net {

void cancellation::on_cancel(std::function<void()> fn) {
    if (cancelled_) {
        if (fn) {
            fn();
        }
        return;
    }
    on_cancel_ = std::move(fn);
}

void cancellation::cancel() {
    if (cancelled_) {
        return;
    }
    cancelled_ = true;
    auto fn = std::move(on_cancel_);
    on_cancel_ = nullptr;
    if (fn) {
        fn();
    }
}

}  // namespace gregor::net
