// refuge-load's output: the human table and the JSON object (shape in docs/LOAD.md).
//
// Both are computed from the merged RunStats and the plan (for what was asked: sources,
// target, duration). Latencies are printed in milliseconds with three decimals (the
// histogram keeps microseconds, within 1.6 %).
//
// Thread-safety: pure functions.
#ifndef REFUGE_TOOLS_LOAD_REPORT_H_
#define REFUGE_TOOLS_LOAD_REPORT_H_

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "load_runner.h"
#include "load_stats.h"

namespace refuge::load {

nlohmann::json ReportJson(const LoadPlan& plan, const RunStats& stats);
std::string ReportTable(const LoadPlan& plan, const RunStats& stats);

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_REPORT_H_
