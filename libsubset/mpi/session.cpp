#include "libsubset/mpi/session.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "libsubset/core/error.h"

namespace subset::mpi {
namespace {

// MPI counts are ints: larger messages go in pieces of at most 1 GiB.
constexpr size_t kPiece = size_t{1} << 30;

void check(int status, const char* call) {
  if (status != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    throw Error(std::string(call) + " failed: " + std::string(text, static_cast<size_t>(length)), "mpi");
  }
}

class World final : public Communicator {
 public:
  int rank() const override {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }
  int size() const override {
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
  }
  void broadcast(void* data, size_t bytes, int root) const override {
    auto* p = static_cast<char*>(data);
    for (size_t done = 0; done < bytes; done += kPiece)
      check(MPI_Bcast(p + done, static_cast<int>(std::min(kPiece, bytes - done)), MPI_BYTE, root, MPI_COMM_WORLD),
            "MPI_Bcast");
  }
  void all_gather(const void* data, size_t bytes, void* out) const override {
    SUBSET_CHECK(bytes <= static_cast<size_t>(INT_MAX), "mpi", "cannot gather " << bytes << " bytes from each rank");
    check(MPI_Allgather(data, static_cast<int>(bytes), MPI_BYTE, out, static_cast<int>(bytes), MPI_BYTE,
                        MPI_COMM_WORLD),
          "MPI_Allgather");
  }
  void send(const void* data, size_t bytes, int to) const override {
    const auto* p = static_cast<const char*>(data);
    for (size_t done = 0; done < bytes; done += kPiece)
      check(MPI_Send(p + done, static_cast<int>(std::min(kPiece, bytes - done)), MPI_BYTE, to, 0, MPI_COMM_WORLD),
            "MPI_Send");
  }
  void receive(void* data, size_t bytes, int from) const override {
    auto* p = static_cast<char*>(data);
    for (size_t done = 0; done < bytes; done += kPiece)
      check(MPI_Recv(p + done, static_cast<int>(std::min(kPiece, bytes - done)), MPI_BYTE, from, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE),
            "MPI_Recv");
  }
  [[noreturn]] void abort(int status) const override {
    MPI_Abort(MPI_COMM_WORLD, status);
    std::_Exit(status);  // MPI_Abort does not return; this tells the compiler so
  }
};

const World the_world;

}  // namespace

Session::Session(int& argc, char**& argv) {
  // Funneled: only the thread that called MPI_Init calls MPI (OpenMP and the read-ahead thread
  // never do).
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  // Errors come back as codes (check() turns them into subset::Error) instead of ending the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  set_world(&the_world);
}

Session::~Session() {
  set_world(nullptr);
  MPI_Finalize();
}

const Communicator& Session::world() const { return the_world; }

}  // namespace subset::mpi
