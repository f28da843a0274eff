# A made-up build for the include-layering check's own test (tests/CMakeLists.txt): subset_a links
# subset_b only. ok.cpp includes what it may; bad.cpp reaches, through a header, a module it does not
# link and another module's internal header. subset_z, a library, links without -z defs.
set(LAYERING_TARGETS subset_a subset_z)
set(LAYERING_subset_z_NO_UNDEFINED missing)
set(LAYERING_subset_a_SOURCES libsubset/a/ok.cpp libsubset/a/bad.cpp)
set(LAYERING_subset_a_OWN a)
set(LAYERING_subset_a_ALLOWED a b)
set(LAYERING_subset_a_LINKED subset_b)
