#pragma once
// `subset energy -- CMD ARGS...`: runs another program under the energy meter. The child's CPU time
// and peak memory come from wait4(), so the estimate covers the child (and the descendants it
// waited for), not this process.
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/energy/meter.h"

namespace subset::energy {

// The command could not be started; exit status as the shells use it: 127 not found, 126 found but
// not executable.
class CommandNotStarted : public Error {
 public:
  CommandNotStarted(std::string what, std::string where, int status) : Error(std::move(what), std::move(where)), status_(status) {}
  int exit_code() const noexcept override { return status_; }

 private:
  int status_;
};

struct MeasuredCommand {
  int exit_status = 0;   // the child's exit code, or 128 + signal number when a signal ended it
  EnergyReport report;
};

// Runs argv[0] (searched in PATH) with the rest as arguments, stdin/stdout/stderr inherited, and
// waits for it. A Ctrl-C reaches the child through the terminal; this process keeps waiting so the
// report still covers the run. Throws CommandNotStarted, or Error for an empty argv.
MeasuredCommand run_measured(const std::vector<std::string>& argv, const MeterOptions& options);

}  // namespace subset::energy
