#pragma once
#include "libsubset/c/c.h"
  #  include "libsubset/b/internal/hidden.h"
