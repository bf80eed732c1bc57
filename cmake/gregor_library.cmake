# gregor_library(NAME storage SRCS a.cc b.cc DEPS gregor::model gregor::base)
# Creates the static library gregor_<NAME> and the alias gregor::<NAME>. Link only
# through aliases, so that the module DAG is explicit in CMake.
function(gregor_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target gregor_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${target} STATIC ${ARG_SRCS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    target_compile_options(${target} PRIVATE ${GREGOR_WARNINGS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  endif()
  add_library(gregor::${ARG_NAME} ALIAS ${target})
endfunction()

# gregor_add_subfolders(): add_subdirectory() for every direct subfolder that has a
# CMakeLists.txt, so a new area (a bench, a fuzz or compat suite) needs no edit here.
function(gregor_add_subfolders)
  file(GLOB entries LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(dir ${entries})
    if(IS_DIRECTORY ${dir} AND EXISTS ${dir}/CMakeLists.txt)
      add_subdirectory(${dir})
    endif()
  endforeach()
endfunction()
