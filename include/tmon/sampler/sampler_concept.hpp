#pragma once
#include <concepts>
#include <type_traits>

#include "tmon/core/types.hpp"

namespace tmon {

namespace detail::sampler_checks {
template <class S>
concept has_sample = requires(S& s) {
    { s.sample() } -> std::same_as<system_sample>;
};
template <class S>
concept has_enabled = requires {
    { S::enabled } -> std::convertible_to<bool>;
};
}  // namespace detail::sampler_checks

// A sampler reads the machine once per call; the owner (server or monitor)
// runs it on its own thread at a configured period. `enabled == false` lets the
// owner skip the thread entirely (no_sampler).
template <class S>
concept sampler = detail::sampler_checks::has_sample<S> && detail::sampler_checks::has_enabled<S>;

template <class S>
constexpr bool assert_sampler() {
    static_assert(detail::sampler_checks::has_sample<S>, "Sampler must provide: system_sample sample()");
    static_assert(detail::sampler_checks::has_enabled<S>, "Sampler must provide: static constexpr bool enabled");
    return true;
}

}  // namespace tmon
