#include "net/memory_budget.h"

#include "base/assert.h"

namespace gregor::net {

struct memory_budget::state {
    state(const asio::any_io_executor& ex, std::size_t cap)
        : capacity(cap), available(cap), released(ex) {}
    std::size_t capacity;
    std::size_t available;
    event released;
};

memory_budget::lease::lease(lease&& other) noexcept
    : state_(std::move(other.state_)), bytes_(std::exchange(other.bytes_, 0)) {}

memory_budget::lease& memory_budget::lease::operator=(lease&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

memory_budget::lease::~lease() {
    release();
}

void memory_budget::lease::release() {
    if (state_ == nullptr) {
        return;
    }
    state_->available += bytes_;
    GREGOR_ASSERT(state_->available <= state_->capacity, "budget over-released: {} > {}",
                  state_->available, state_->capacity);
    state_->released.notify_all();
    state_.reset();
    bytes_ = 0;
}

memory_budget::memory_budget(const asio::any_io_executor& ex, std::size_t capacity_bytes)
    : state_(std::make_shared<state>(ex, capacity_bytes)) {
    GREGOR_ASSERT(capacity_bytes > 0, "empty memory budget");
}

std::optional<memory_budget::lease> memory_budget::try_acquire(std::size_t n) {
    GREGOR_ASSERT(n <= state_->capacity, "lease of {} exceeds capacity {}", n, state_->capacity);
    if (n > state_->available) {
        return std::nullopt;
    }
    state_->available -= n;
    return lease(state_, n);
}

asio::awaitable<void> memory_budget::wait_for_release() {
    auto keep = state_;  // the event must outlive this wait
    co_await keep->released.wait();
}

void memory_budget::wake_all() {
    state_->released.notify_all();
}

std::size_t memory_budget::capacity_bytes() const {
    return state_->capacity;
}
std::size_t memory_budget::available_bytes() const {
    return state_->available;
}

}  // namespace gregor::net
