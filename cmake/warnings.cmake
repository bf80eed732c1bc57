# Warnings from day one; every target built through gregor_library/gregor_test gets them.
# They are errors in the developer and CI builds (debug, fuzz); the release build that
# scripts/run.sh makes for users only warns, so a compiler's optimiser-only warning cannot
# stop a newcomer's cluster from building.
option(GREGOR_WERROR "Treat compiler warnings as errors" ON)
set(GREGOR_WARNINGS
  -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion
  -Wimplicit-fallthrough -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wdouble-promotion -Wformat=2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 raises false positives on std::vector/std::string inlining at -O2. Its
  # -Wnull-dereference also fires inside Boost.Asio's scheduler after inlining (the thread
  # info pointer is never null there), in every module that includes Asio, and only at -O2:
  # so it is on for clang only.
  list(APPEND GREGOR_WARNINGS -Wno-maybe-uninitialized -Wno-stringop-overflow
    -Wno-array-bounds -Wno-restrict)
  # A unity batch #includes its .cc files, and GCC then counts a file-local type (anonymous
  # namespace) used in a coroutine frame as coming from a header.
  if(GREGOR_UNITY)
    list(APPEND GREGOR_WARNINGS -Wno-subobject-linkage)
  endif()
else()
  list(APPEND GREGOR_WARNINGS -Wnull-dereference)
endif()
if(GREGOR_WERROR)
  list(APPEND GREGOR_WARNINGS -Werror)
endif()
