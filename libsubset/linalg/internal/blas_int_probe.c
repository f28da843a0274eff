/* Configure-time probe (libsubset/CMakeLists.txt): the width of the Fortran INTEGER of the BLAS
 * that is linked. isamax_ gets n and incx as 64-bit values whose low half is 3 and 1 and whose
 * high half is all ones: an LP64 BLAS reads the low halves (n = 3) and returns 2, the index of the
 * largest |x|; an ILP64 one reads negative values and returns 0. The result is read from the low
 * half of the return register, which holds it for either width. Prints 4 or 8. */
#include <stdint.h>
#include <stdio.h>

extern int32_t isamax_(const int64_t* n, const float* x, const int64_t* incx);

int main(void) {
  const float x[4] = {1.0f, 5.0f, 2.0f, 0.0f};
  const int64_t n = (int64_t)(((uint64_t)0xFFFFFFFFu << 32) | 3u);
  const int64_t inc = (int64_t)(((uint64_t)0xFFFFFFFFu << 32) | 1u);
  const int32_t r = isamax_(&n, x, &inc);
  if (r == 2) { printf("4"); return 0; }
  if (r == 0) { printf("8"); return 0; }
  printf("?%d", (int)r);
  return 1;
}
