#pragma once
#include "tmon/core/clock.hpp"
#include "tmon/core/types.hpp"
#include "tmon/sampler/sampler_concept.hpp"

namespace tmon {

// Samples nothing; `enabled == false` tells the owner not to start a sampler thread.
struct no_sampler {
    static constexpr bool enabled = false;
    system_sample sample() const {
        system_sample s;
        s.time = now_seconds();
        return s;
    }
};

static_assert(assert_sampler<no_sampler>());

}  // namespace tmon
