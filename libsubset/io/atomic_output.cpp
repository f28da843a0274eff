#include "libsubset/io/atomic_output.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"

namespace subset::io {

// Which file a path names: an existing file by device and inode; a file still to be created by
// its directory's device and inode and its name in it. Two spellings of one file compare equal.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string leaf;  // empty for an existing file
  bool operator==(const FileIdentity& o) const { return dev == o.dev && ino == o.ino && leaf == o.leaf; }
};

struct Named {
  FileIdentity id;
  std::string path;
};

struct OutputTransaction::State {
  struct Staged {
    std::string temp;
    std::string final;
    bool force = false;
    int slot = -1;
  };
  std::vector<Staged> staged;
  std::vector<Named> inputs;
  std::vector<Named> outputs;  // every path checked as an output
  std::vector<Named> writing;  // outputs with an AtomicOutput alive or staged
  std::vector<std::function<void()>> after_commit;
  State* outer = nullptr;
};

namespace {

thread_local OutputTransaction::State* g_open = nullptr;

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<FileIdentity> identity_of(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return FileIdentity{st.st_dev, st.st_ino, {}};
  if (stat(parent_dir(path).c_str(), &st) == 0) return FileIdentity{st.st_dev, st.st_ino, base_name(path)};
  return std::nullopt;
}

const Named* find(const std::vector<Named>& list, const FileIdentity& id) {
  for (const Named& n : list)
    if (n.id == id) return &n;
  return nullptr;
}

std::string same_file_note(const std::string& a, const std::string& b) {
  return a == b ? std::string() : " (" + b + " is the same file)";
}

void check_path_length(const std::string& path) {
  SUBSET_CHECK(path.size() < PATH_MAX, path.substr(0, 60) + "...",
               "output path is too long (" << path.size() << " characters; the limit is " << PATH_MAX - 1 << ")");
  size_t begin = 0;
  while (begin < path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string::npos) end = path.size();
    SUBSET_CHECK(end - begin <= NAME_MAX, path.substr(0, 60) + "...",
                 "a file or directory name in the output path is too long (" << end - begin
                                                                             << " characters; the limit is " << NAME_MAX
                                                                             << ")");
    begin = end + 1;
  }
}

// Puts `temp` at `final`. Without force the kernel refuses to replace a file that appeared since
// the checks (another run to the same path): the existence check and the rename are one step.
void publish(const std::string& temp, const std::string& final, bool force) {
  if (force) {
    if (std::rename(temp.c_str(), final.c_str()) == 0) return;
  } else {
    if (renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final.c_str(), RENAME_NOREPLACE) == 0) return;
    if (errno == EINVAL || errno == ENOSYS) {  // a filesystem without RENAME_NOREPLACE
      if (link(temp.c_str(), final.c_str()) == 0) {
        unlink(temp.c_str());
        return;
      }
    }
    if (errno == EEXIST)
      SUBSET_FAIL(final, "output was created by another run meanwhile; it is kept, and this run's result dropped "
                         "(use --force to overwrite)");
  }
  SUBSET_FAIL(final, "cannot move the finished output into place: " << std::strerror(errno));
}

bool process_gone(pid_t pid) { return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH; }

// The PID in ".NAME.partial-PID" or ".NAME.partial-PID-K", or -1.
pid_t partial_owner(const std::string& entry, const std::string& prefix) {
  if (entry.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string rest = entry.substr(prefix.size());
  const size_t dash = rest.find('-');
  const std::string pid_text = rest.substr(0, dash);
  const std::string attempt = dash == std::string::npos ? "0" : rest.substr(dash + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!digits(pid_text) || !digits(attempt)) return -1;
  return static_cast<pid_t>(std::stol(pid_text));
}

}  // namespace

void remove_stale_partials(const std::string& path) {
  const std::string dir = parent_dir(path);
  const std::string prefix = "." + base_name(path) + ".partial-";
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (const dirent* e = readdir(d)) {
    const pid_t owner = partial_owner(e->d_name, prefix);
    if (owner > 0 && owner != getpid() && process_gone(owner)) stale.push_back(dir + "/" + e->d_name);
  }
  closedir(d);
  std::error_code ignored;
  for (const std::string& p : stale) std::filesystem::remove_all(p, ignored);
}

void check_output_path(const std::string& path, bool force) {
  SUBSET_CHECK(!path.empty() && path.back() != '/', path, "output path must name a file");
  check_path_length(path);
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) SUBSET_FAIL_FILE(path, EISDIR, "output path is a directory");
    if (!force) SUBSET_FAIL_FILE(path, EEXIST, "output already exists (use --force to overwrite)");
  }
  const std::string dir = parent_dir(path);
  if (stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) SUBSET_FAIL_FILE(dir, err, "output directory does not exist");
    SUBSET_FAIL_FILE(dir, err, "cannot reach the output directory: " << std::strerror(err));
  }
  SUBSET_CHECK(S_ISDIR(st.st_mode), dir, "output directory is not a directory");
  if (!g_open) return;
  const std::optional<FileIdentity> id = identity_of(path);
  if (!id) return;
  if (const Named* input = find(g_open->inputs, *id))
    SUBSET_FAIL(path, "output is also an input of this command" << same_file_note(path, input->path)
                                                                << "; choose another output path");
  if (!find(g_open->outputs, *id)) g_open->outputs.push_back({*id, path});
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::vector<std::pair<FileIdentity, std::string>> seen;
  for (const auto& [option, path] : outputs) {
    const std::optional<FileIdentity> id = identity_of(path);
    if (!id) continue;  // a missing directory is reported by check_output_path
    for (const auto& [other_id, other_option] : seen)
      SUBSET_CHECK(!(other_id == *id), path,
                   option << " and " << other_option << " name the same file; give each output its own path");
    seen.emplace_back(*id, option);
  }
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void note_input(const std::string& path) {
  if (!g_open) return;
  const std::optional<FileIdentity> id = identity_of(path);
  if (!id) return;
  if (const Named* output = find(g_open->outputs, *id))
    SUBSET_FAIL(path, "input is also an output of this command" << same_file_note(path, output->path)
                                                                << "; choose another output path");
  if (!find(g_open->inputs, *id)) g_open->inputs.push_back({*id, path});
}

void after_outputs_committed(std::function<void()> action) {
  if (g_open) g_open->after_commit.push_back(std::move(action));
  else action();
}

std::string readable_path(const std::string& path) {
  if (!g_open) return path;
  const std::optional<FileIdentity> id = identity_of(path);
  for (const auto& s : g_open->staged)
    if (s.final == path || (id && identity_of(s.final) == id)) return s.temp;
  return path;
}

AtomicOutput::AtomicOutput(std::string final_path, bool force) : final_path_(std::move(final_path)), force_(force) {
  check_output_path(final_path_, force);
  if (g_open) {
    const std::optional<FileIdentity> id = identity_of(final_path_);
    if (id) {
      if (const Named* other = find(g_open->writing, *id))
        SUBSET_FAIL(final_path_, "the command writes two outputs to the same file"
                                     << same_file_note(final_path_, other->path) << "; give each output its own path");
      g_open->writing.push_back({*id, final_path_});
    }
  }
  remove_stale_partials(final_path_);
  const std::string dir = parent_dir(final_path_);
  // Hidden, and named after the output and this process, so a leftover after `kill -9` is obvious
  // and the next run to the same output can tell that its owner is gone.
  const std::string stem = dir + "/." + base_name(final_path_) + ".partial-" + std::to_string(getpid());
  for (int attempt = 0;; ++attempt) {
    temp_path_ = attempt == 0 ? stem : stem + "-" + std::to_string(attempt);
    const int fd = open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      break;
    }
    if (errno == EEXIST && attempt < 100) continue;
    const int err = errno;
    temp_path_.clear();
    if (g_open && !g_open->writing.empty() && g_open->writing.back().path == final_path_) g_open->writing.pop_back();
    SUBSET_FAIL_FILE(dir, err, "output directory is not writable: " << std::strerror(err));
  }
  interrupt_slot_ = register_temporary_file(temp_path_);
}

AtomicOutput::~AtomicOutput() { discard(); }

void AtomicOutput::discard() {
  if (done_) return;
  done_ = true;
  if (!temp_path_.empty()) unlink(temp_path_.c_str());
  unregister_temporary_file(interrupt_slot_);
  if (g_open) {
    auto& w = g_open->writing;
    w.erase(std::remove_if(w.begin(), w.end(), [&](const Named& n) { return n.path == final_path_; }), w.end());
  }
}

void AtomicOutput::commit() {
  SUBSET_CHECK(!done_, final_path_, "output already finalised");
  check_interrupted();  // a Ctrl-C that arrived during the last write still wins
  if (g_open) {
    g_open->staged.push_back({temp_path_, final_path_, force_, interrupt_slot_});
    done_ = true;  // the temporary file is the transaction's now
    return;
  }
  try {
    publish(temp_path_, final_path_, force_);
  } catch (const Error&) {
    discard();
    throw;
  }
  done_ = true;
  unregister_temporary_file(interrupt_slot_);
}

OutputTransaction::OutputTransaction() {
  if (g_open) return;  // inert: the outer transaction stages everything
  state_ = std::make_unique<State>();
  g_open = state_.get();
}

OutputTransaction::~OutputTransaction() {
  if (!state_) return;
  for (const auto& s : state_->staged) {
    unlink(s.temp.c_str());
    unregister_temporary_file(s.slot);
  }
  g_open = nullptr;
}

void OutputTransaction::commit() {
  if (!state_) return;
  check_interrupted();
  auto& staged = state_->staged;
  size_t placed = 0;
  try {
    for (; placed < staged.size(); ++placed) publish(staged[placed].temp, staged[placed].final, staged[placed].force);
  } catch (const Error&) {
    // Take back what this commit created, so the command leaves all of its outputs or none; a
    // replaced file (--force) cannot be brought back.
    for (size_t i = 0; i < placed; ++i)
      if (!staged[i].force) unlink(staged[i].final.c_str());
    for (size_t i = 0; i < placed; ++i) unregister_temporary_file(staged[i].slot);
    staged.erase(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(placed));
    throw;
  }
  for (const auto& s : staged) unregister_temporary_file(s.slot);
  staged.clear();
  auto actions = std::move(state_->after_commit);
  state_->after_commit.clear();
  for (auto& action : actions) action();
}

ImmediateOutputs::ImmediateOutputs() : saved_(g_open) { g_open = nullptr; }

ImmediateOutputs::~ImmediateOutputs() { g_open = static_cast<OutputTransaction::State*>(saved_); }

}  // namespace subset::io
