# Link with LLVM's lld when it is installed (scripts/setup.sh installs it): it links the
# sanitizer build's executables in about half the time GNU ld takes, and a warm build from
# the compiler cache is mostly linking. -DGREGOR_LLD=OFF keeps the system linker.
option(GREGOR_LLD "Link with lld when it is installed" ON)
if(GREGOR_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" GREGOR_HAS_LLD)
  if(GREGOR_HAS_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()
