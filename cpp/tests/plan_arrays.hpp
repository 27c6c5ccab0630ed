// Owning arrays behind a signals::PlanView, for tests that build intersections by hand.
#pragma once

#include <cstdint>
#include <vector>

#include "smartcore/signals.hpp"

namespace smartcore::signals::testing {

struct PlanArrays {
    std::vector<index_t> phase_first{0}, group_first{0}, serve_first{0}, serve_phase;
    std::vector<double> yellow, all_red, lost, gmin, gmax, cmin, cmax;
    std::vector<double> flow, sat, k, I, qb;
    std::vector<std::int32_t> at;

    PlanView view() const {
        PlanView v;
        v.phase_first = {phase_first.data(), phase_first.size()};
        v.yellow_s = {yellow.data(), yellow.size()};
        v.all_red_s = {all_red.data(), all_red.size()};
        v.lost_s = {lost.data(), lost.size()};
        v.min_green_s = {gmin.data(), gmin.size()};
        v.max_green_s = {gmax.data(), gmax.size()};
        v.cycle_min_s = {cmin.data(), cmin.size()};
        v.cycle_max_s = {cmax.data(), cmax.size()};
        v.group_first = {group_first.data(), group_first.size()};
        v.serve_first = {serve_first.data(), serve_first.size()};
        v.serve_phase = {serve_phase.data(), serve_phase.size()};
        v.flow_vph = {flow.data(), flow.size()};
        v.sat_flow_vph = {sat.data(), sat.size()};
        v.arrival_type = {at.data(), at.size()};
        v.k = {k.data(), k.size()};
        v.upstream_i = {I.data(), I.size()};
        v.initial_queue_veh = {qb.data(), qb.size()};
        return v;
    }
};

}  // namespace smartcore::signals::testing
