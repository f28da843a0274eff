#include "libsubset/workflows/hpo/ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "libsubset/core/error.h"

namespace subset::workflows::hpo {

nlohmann::json to_json(const TrialRecord& t) {
  return {{"key", t.key()},         {"config_id", t.config_id}, {"config_hash", t.config_hash},
          {"config", t.config},     {"set", t.set},             {"n", t.n},
          {"accuracy", t.accuracy}, {"seconds", t.seconds},     {"epochs", t.epochs},
          {"best_epoch", t.best_epoch}, {"energy", energy::to_json(t.energy)},
          {"validation_accuracy", t.validation_accuracy ? nlohmann::json(*t.validation_accuracy) : nlohmann::json(nullptr)},
          {"rung", t.rung}};
}

TrialRecord trial_from_json(const nlohmann::json& j) {
  TrialRecord t;
  t.config_id = j.at("config_id").get<std::string>();
  t.config_hash = j.at("config_hash").get<std::string>();
  t.config = j.at("config");
  t.set = j.at("set").get<std::string>();
  t.n = j.at("n").get<int64_t>();
  t.accuracy = j.at("accuracy").get<double>();
  t.seconds = j.at("seconds").get<double>();
  t.epochs = j.at("epochs").get<int64_t>();
  t.best_epoch = j.at("best_epoch").get<int64_t>();
  t.energy = energy::report_from_json(j.at("energy"));
  // Both absent from the ledgers of searches made before halving existed.
  if (j.contains("validation_accuracy") && !j["validation_accuracy"].is_null())
    t.validation_accuracy = j["validation_accuracy"].get<double>();
  t.rung = j.value("rung", int64_t{-1});
  return t;
}

void append_trial(const std::string& path, const TrialRecord& trial) {
  const std::string line = to_json(trial).dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  SUBSET_CHECK(fd >= 0, path, "cannot open the trial ledger: " << std::strerror(errno));
  // One write: an interruption can cut the line short but never interleave two, and the reader
  // recognises a short last line by its missing newline.
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  const bool synced = written == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  SUBSET_CHECK(written == static_cast<ssize_t>(line.size()), path,
               "cannot append to the trial ledger: " << (written < 0 ? std::strerror(write_errno) : "short write"));
  SUBSET_CHECK(synced, path, "cannot flush the trial ledger to disk: " << std::strerror(sync_errno));
}

LedgerContents read_ledger(const std::string& path) {
  LedgerContents out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size()) {
    ++line_no;
    const size_t end = text.find('\n', start);
    const bool last = end == std::string::npos || end + 1 == text.size();
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    try {
      if (end == std::string::npos) throw std::runtime_error("no newline");
      out.trials.push_back(trial_from_json(nlohmann::json::parse(line)));
    } catch (const std::exception& e) {
      SUBSET_CHECK(last, path + ":" + std::to_string(line_no),
                   "the trial ledger is damaged (line " << line_no << " is not a trial record, and it is not the last "
                   "line, so no interruption explains it): move the directory aside and search again");
      out.torn = true;
      break;
    }
    start = end + 1;
    out.whole_bytes = static_cast<int64_t>(start);
  }
  return out;
}

void truncate_ledger(const std::string& path, int64_t bytes) {
  SUBSET_CHECK(::truncate(path.c_str(), static_cast<off_t>(bytes)) == 0, path,
               "cannot drop the torn last line of the trial ledger: " << std::strerror(errno));
}

}  // namespace subset::workflows::hpo
