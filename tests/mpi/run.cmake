# The `mpi:` test: builds `subset` with SUBSET_WITH_MPI (OpenMPI and parallel HDF5, and libtorch for
# the importance scores' data-parallel proxy; without Python, which distributed runs do not use) in
# WORK_DIR, then runs tests/mpi with it under mpirun, against SUBSET_BIN, the default build.
foreach(var SOURCE_DIR WORK_DIR BUILD_TYPE PYTHON SUBSET_BIN JOBS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake needs -D${var}=...")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status})")
  endif()
endfunction()

run_step("configuring the MPI build" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
         -DSUBSET_WITH_MPI=ON -DSUBSET_WITH_TORCH=ON -DSUBSET_WITH_PYTHON=OFF -DSUBSET_BUILD_TESTS=OFF)
run_step("building the MPI build" ${CMAKE_COMMAND} --build ${WORK_DIR} --target subset -j ${JOBS})
run_step("tests/mpi" ${CMAKE_COMMAND} -E env SUBSET_MPI_BIN=${WORK_DIR}/tools/subset SUBSET_BIN=${SUBSET_BIN}
         SUBSET_SOURCE_DIR=${SOURCE_DIR} PYTHONDONTWRITEBYTECODE=1
         ${PYTHON} -m pytest -q -p no:cacheprovider ${SOURCE_DIR}/tests/mpi)
