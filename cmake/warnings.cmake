# Warnings from day one; every target built through gregor_library/gregor_test gets them.
set(GREGOR_WARNINGS
  -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion
  -Wimplicit-fallthrough -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 raises false positives on std::vector/std::string inlining at -O2.
  list(APPEND GREGOR_WARNINGS -Wno-maybe-uninitialized -Wno-stringop-overflow
    -Wno-array-bounds -Wno-restrict)
endif()
