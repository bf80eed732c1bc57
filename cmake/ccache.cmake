# Compiler cache: every preset compiles through Debian's ccache when it is installed
# (scripts/setup.sh installs it), so a build in a fresh clone reuses what an earlier build on
# the same machine compiled. Turn it off with -DGREGOR_CCACHE=OFF (or CCACHE_DISABLE=1).
#
# Why these settings:
# - base_dir = the source tree, hash_dir off: ccache rewrites the tree's absolute paths to
#   paths relative to the build directory and leaves the working directory out of the key, so
#   two clones in different folders share entries. -fdebug-prefix-map keeps the clone's path
#   out of the debug info too (it would otherwise differ between otherwise equal objects).
# - The key still holds the compiler (by content, not mtime), every flag (sanitizers, fuzzer
#   instrumentation, -O level, warnings) and every header read, so a hit is the object this
#   compiler would have produced: a cache never changes a result.
# - max_size bounds the cache (three presets of this tree take about 1.5 GiB).
option(GREGOR_CCACHE "Compile through ccache when it is installed" ON)
find_program(GREGOR_CCACHE_PROGRAM ccache)
if(GREGOR_CCACHE AND GREGOR_CCACHE_PROGRAM)
  set(gregor_ccache_launcher ${CMAKE_COMMAND} -E env
    CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1 CCACHE_COMPILERCHECK=content
    CCACHE_MAXSIZE=4G ${GREGOR_CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${gregor_ccache_launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${gregor_ccache_launcher})
  add_compile_options(-fdebug-prefix-map=${PROJECT_SOURCE_DIR}=.)
  message(STATUS "gregor: compiling through ${GREGOR_CCACHE_PROGRAM} (-DGREGOR_CCACHE=OFF turns it off)")
endif()
