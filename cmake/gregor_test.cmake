# gregor_test(NAME storage_test SRCS x_test.cc DEPS gregor::storage LABELS unit)
# One gtest executable; every TEST is registered with ctest under the given labels.
function(gregor_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main
    GTest::gmock)
  target_compile_options(${ARG_NAME} PRIVATE ${GREGOR_WARNINGS})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${ARG_NAME}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

# gregor_benchmark(NAME crc_bench SRCS crc_bench.cc DEPS gregor::base [GLIBC_MALLOC])
# Built with -DGREGOR_BENCH=ON (the default, and the release preset's; the debug preset that
# scripts/test.sh uses leaves them out); `benchmarks` builds them all, scripts/bench.sh runs them. They use the broker's allocator
# (cmake/allocator.cmake) unless GLIBC_MALLOC says the benchmark reads glibc's heap figures.
function(gregor_benchmark)
  cmake_parse_arguments(ARG "GLIBC_MALLOC" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  target_compile_options(${ARG_NAME} PRIVATE ${GREGOR_WARNINGS})
  if(NOT ARG_GLIBC_MALLOC)
    gregor_use_allocator(${ARG_NAME})
  endif()
  if(NOT TARGET benchmarks)
    add_custom_target(benchmarks)
  endif()
  add_dependencies(benchmarks ${ARG_NAME})
endfunction()

# gregor_fuzzer(NAME request_fuzz SRCS request_fuzz.cc DEPS gregor::protocol)
# Built only with -DGREGOR_FUZZ=ON (clang); CI runs each for a bounded time.
function(gregor_fuzzer)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT GREGOR_FUZZ)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${ARG_NAME} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests/fuzz)
  # `fuzzers` builds every fuzz target and nothing else (scripts/test.sh uses it).
  if(NOT TARGET fuzzers)
    add_custom_target(fuzzers)
  endif()
  add_dependencies(fuzzers ${ARG_NAME})
  target_compile_options(${ARG_NAME} PRIVATE ${GREGOR_WARNINGS})
endfunction()

# gregor_use_test_paths(target [PUBLIC|PRIVATE]): the target's files see
# tests/support/test_paths.h (forced include) and link its paths; macros naming test files
# are then defined as gregor::test::source_path("relative/path") calls, which keep the
# clone's directory out of the compile command (see tests/support/CMakeLists.txt).
function(gregor_use_test_paths target)
  set(scope PRIVATE)
  if(ARGN)
    set(scope ${ARGN})
  endif()
  target_link_libraries(${target} ${scope} gregor_test_paths)
  target_compile_options(${target} ${scope}
    -include ${PROJECT_SOURCE_DIR}/tests/support/test_paths.h)
endfunction()
