// named_type<T, Tag>: a strong typedef so that ids, epochs and offsets cannot be mixed up.
//
// `offset` and `leader_epoch` are both integers on the wire but never interchangeable in
// code. Raw integers do not cross module APIs; wrap them here. Arithmetic is limited to
// what the quantity supports (ordering, increments, adding a raw delta). Value type.
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <type_traits>

namespace gregor {

template <class T, class Tag>
class named_type {
public:
    using value_type = T;

    constexpr named_type() = default;
    explicit constexpr named_type(T v) : value_(v) {}

    constexpr T operator()() const { return value_; }
    constexpr T value() const { return value_; }

    constexpr auto operator<=>(const named_type&) const = default;

    constexpr named_type& operator++() requires std::is_integral_v<T> {
        ++value_;
        return *this;
    }
    constexpr named_type operator++(int) requires std::is_integral_v<T> {
        named_type old = *this;
        ++value_;
        return old;
    }
    constexpr named_type operator+(T delta) const requires std::is_integral_v<T> {
        return named_type(static_cast<T>(value_ + delta));
    }
    constexpr named_type operator-(T delta) const requires std::is_integral_v<T> {
        return named_type(static_cast<T>(value_ - delta));
    }
    constexpr named_type& operator+=(T delta) requires std::is_integral_v<T> {
        value_ = static_cast<T>(value_ + delta);
        return *this;
    }

private:
    T value_{};
};

}  // namespace gregor

template <class T, class Tag>
struct std::hash<gregor::named_type<T, Tag>> {
    std::size_t operator()(const gregor::named_type<T, Tag>& v) const noexcept {
        return std::hash<T>{}(v());
    }
};

template <class T, class Tag>
struct fmt::formatter<gregor::named_type<T, Tag>> : fmt::formatter<T> {
    auto format(const gregor::named_type<T, Tag>& v, fmt::format_context& ctx) const {
        return fmt::formatter<T>::format(v(), ctx);
    }
};
