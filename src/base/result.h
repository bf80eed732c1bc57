// result<T>: the return type of every fallible operation (operating errors, not bugs).
//
// Holds either a value or a std::error_code from a per-module `errc` enum (each with its
// own error_category), plus an optional human-readable detail for logs. It is
// [[nodiscard]]; to drop one on purpose call ignore_error(r, "why"), which is
// searchable. Kafka wire error codes are a separate table (model/kafka_error.h) and are
// mapped from errc only in the broker's handlers. Plain value type, no thread affinity.
#pragma once

#include "base/assert.h"

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace gregor {

// An error: a code for programs, a detail string for humans.
struct error {
    std::error_code code;
    std::string detail;

    error(std::error_code c) : code(c) {}  // NOLINT: implicit on purpose
    error(std::error_code c, std::string d) : code(c), detail(std::move(d)) {}
    template <class E>
    requires std::is_error_code_enum_v<E> error(E e)
        : code(make_error_code(e)) {}  // NOLINT: implicit on purpose
    template <class E>
    requires std::is_error_code_enum_v<E> error(E e, std::string d)
        : code(make_error_code(e)), detail(std::move(d)) {}

    // "category: message (detail)"
    std::string to_string() const;
};

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
    result(error e) : state_(std::in_place_index<1>, std::move(e)) {}      // NOLINT
    template <class E>
    requires std::is_error_code_enum_v<E> result(E e)
        : state_(std::in_place_index<1>, error(e)) {}  // NOLINT

    bool has_value() const { return state_.index() == 0; }
    bool has_error() const { return state_.index() == 1; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        GREGOR_ASSERT(has_value(), "value() on error result: {}", std::get<1>(state_).to_string());
        return std::get<0>(state_);
    }
    const T& value() const& {
        GREGOR_ASSERT(has_value(), "value() on error result: {}", std::get<1>(state_).to_string());
        return std::get<0>(state_);
    }
    T&& value() && {
        GREGOR_ASSERT(has_value(), "value() on error result: {}", std::get<1>(state_).to_string());
        return std::get<0>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const error& err() const {
        GREGOR_ASSERT(has_error(), "err() on a value result");
        return std::get<1>(state_);
    }
    std::error_code code() const { return has_error() ? err().code : std::error_code{}; }

private:
    std::variant<T, error> state_;
};

// result<void>
template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(error e) : error_(std::move(e)), ok_(false) {}  // NOLINT
    template <class E>
    requires std::is_error_code_enum_v<E> result(E e) : error_(error(e)), ok_(false) {}  // NOLINT

    bool has_value() const { return ok_; }
    bool has_error() const { return !ok_; }
    explicit operator bool() const { return ok_; }
    const error& err() const {
        GREGOR_ASSERT(!ok_, "err() on a value result");
        return error_;
    }
    std::error_code code() const { return ok_ ? std::error_code{} : error_.code; }

private:
    error error_{std::error_code{}};
    bool ok_ = true;
};

inline result<void> ok() {
    return {};
}

// Drops a result on purpose. `why` documents the decision at the call site.
template <class T>
void ignore_error(result<T>&& r, const char* why) {
    (void)r;
    (void)why;
}
template <class T>
void ignore_error(const result<T>& r, const char* why) {
    (void)r;
    (void)why;
}

}  // namespace gregor

// Propagates an error: `GREGOR_TRY(auto x, f());` or `GREGOR_TRY_VOID(g());`.
#define GREGOR_CONCAT_INNER(a, b) a##b
#define GREGOR_CONCAT(a, b) GREGOR_CONCAT_INNER(a, b)
#define GREGOR_TRY_IMPL(tmp, decl, expr) \
    auto tmp = (expr);                   \
    if (tmp.has_error()) [[unlikely]] {  \
        return tmp.err();                \
    }                                    \
    decl = std::move(tmp).value()
#define GREGOR_TRY(decl, expr) GREGOR_TRY_IMPL(GREGOR_CONCAT(try_tmp_, __LINE__), decl, expr)
#define GREGOR_TRY_VOID(expr)                        \
    do {                                             \
        auto try_void_tmp = (expr);                  \
        if (try_void_tmp.has_error()) [[unlikely]] { \
            return try_void_tmp.err();               \
        }                                            \
    } while (0)
