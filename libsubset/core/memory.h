#pragma once
// The machine's and the process's memory: to refuse before any allocation a request the machine
// cannot hold (libtorch would otherwise fill it page by page, swapping for minutes, before it fails
// or the kernel kills the process), and to plan work under a user's --memory-limit.
#include <cstdint>
#include <optional>
#include <string>

namespace subset {

// Bytes of physical memory, or 0 when the system does not say.
double physical_memory_bytes();
// What the kernel reports as available to a new allocation without swapping (MemAvailable of
// /proc/meminfo), or physical_memory_bytes() when it does not say.
double available_memory_bytes();
// This process's resident set now (VmRSS) and its peak so far (VmHWM), in bytes; 0 when unknown.
double resident_bytes();
double peak_resident_bytes();

// "1G", "512M", "1.5GiB", "64k", "300000000": a size in bytes (K, M, G, T are powers of 1024, with
// an optional "iB" or "B"). Throws ParamError naming `option` for anything else, or for a size
// below 1 MiB (no command can run in less).
double parse_memory_size(const std::string& text, const char* option);
// 1536 MiB -> "1.5 GiB": for messages.
std::string format_bytes(double bytes);

// How much memory a command may use (--memory-limit; issue 18, out of core on one machine). The
// limit is for the whole process: what it holds when a plan is made (libraries, labels) counts
// against it. By default it is what the process holds plus what the kernel reports as available
// (MemAvailable), so that data larger than the machine's free memory is streamed, not swapped.
struct MemoryLimit {
  double bytes = 0;    // for the whole process
  bool given = false;  // from the user, not the machine's available memory
  // `given` bytes, or else the machine's: resident now + MemAvailable.
  static MemoryLimit of(const std::optional<double>& given);
  // What a plan may spend: the limit less what is resident now, less a margin for HDF5's buffers,
  // the allocator and small outputs; negative when the process already holds more.
  double spendable() const;
  // "--memory-limit 1 GiB" or "the 3.2 GiB of memory available": for messages.
  std::string describe() const;
};

}  // namespace subset
