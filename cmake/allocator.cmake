# The memory allocator of the executables (the broker and the benchmarks).
#
# GREGOR_JEMALLOC links jemalloc (Debian's libjemalloc-dev) instead of glibc's malloc. The
# controller's failover allocates and frees millions of small objects (partition states,
# request messages); glibc spends half of that time in malloc/free and consolidation, jemalloc
# a fraction (bench/controller/controller_bench: failover of 100,000 partitions 2.7 s ->
# 1.5 s). The release preset turns it on; sanitizer builds keep glibc's (ASan replaces malloc).
option(GREGOR_JEMALLOC "Link the gregor executable and the benchmarks with jemalloc" OFF)
if(GREGOR_JEMALLOC)
  if(GREGOR_SANITIZE OR GREGOR_FUZZ)
    message(FATAL_ERROR "GREGOR_JEMALLOC cannot be combined with the sanitizers")
  endif()
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()

# Links `target` with the chosen allocator (nothing when it is glibc's), and jemalloc's
# settings (src/base/jemalloc_conf.cc).
function(gregor_use_allocator target)
  if(GREGOR_JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src/base/jemalloc_conf.cc)
  endif()
endfunction()
