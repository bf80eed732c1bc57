# Unity batches: a target's .cc files compile GREGOR_UNITY_BATCH at a time as one
# translation unit. Under the debug preset's sanitizers most of a file's compile time is
# spent emitting the same inline functions and template instances (Asio's coroutine frames,
# fmt, the generated protocol types) that its neighbours emit too; a batch emits them once.
# Four controller files: 62.6 s one by one, 23.8 s as one batch (gcc 12, ASan + UBSan).
#
# The batch files are written here rather than by CMake's UNITY_BUILD, whose batches
# #include each source by its absolute path: a clone in another folder would then miss
# ccache on every batch. Ours name each source relative to an include directory the
# target already has (src/, tests/, or the generated code's gen/), so a batch's text is
# the same in every clone.
#
# -DGREGOR_UNITY=OFF compiles file by file again (quicker when editing one file over and
# over). A file that cannot share a batch sets SKIP_UNITY_BUILD_INCLUSION before the
# target is created.
option(GREGOR_UNITY "Compile sources in unity batches" ON)
set(GREGOR_UNITY_BATCH 8 CACHE STRING "Sources per unity batch")

# Sets `out` to `abs` relative to the first include root that holds it; "" if none does.
function(gregor_unity_include_name out abs)
  foreach(root ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests ${CMAKE_BINARY_DIR}/gen)
    file(RELATIVE_PATH rel ${root} ${abs})
    if(NOT rel MATCHES "^\\.\\./")
      set(${out} ${rel} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# Writes batch file number `index` of `target` holding `includes`, only when its text
# changes (so an unchanged batch is not rebuilt), and appends its path to `files`.
function(gregor_unity_write_batch files target index includes)
  set(text "/* ${target}: unity batch ${index}, written by cmake/unity.cmake */\n")
  foreach(name ${includes})
    string(APPEND text "#include \"${name}\"\n")
  endforeach()
  set(path ${CMAKE_CURRENT_BINARY_DIR}/unity/${target}_${index}.cc)
  file(CONFIGURE OUTPUT ${path} CONTENT "${text}" @ONLY)
  set(${files} ${${files}} ${path} PARENT_SCOPE)
endfunction()

# gregor_unity(target): replaces the target's .cc sources by batch files when GREGOR_UNITY
# is on. Generated sources stay in the target as HEADER_FILE_ONLY, so they are still
# generated before the batches compile (only generated files: the property belongs to the
# directory, and another target there may compile the same hand-written file on its own).
# Call it in the target's directory.
function(gregor_unity target)
  if(NOT GREGOR_UNITY)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  set(kept)
  set(batch)
  set(batch_files)
  set(index 0)
  foreach(src ${sources})
    get_filename_component(abs ${src} ABSOLUTE)
    get_source_file_property(skip ${src} SKIP_UNITY_BUILD_INCLUSION)
    get_source_file_property(generated ${src} GENERATED)
    gregor_unity_include_name(name ${abs})
    if(NOT abs MATCHES "\\.cc$" OR skip OR name STREQUAL "")
      list(APPEND kept ${src})
      continue()
    endif()
    if(generated)
      set_source_files_properties(${src} PROPERTIES HEADER_FILE_ONLY ON)
      list(APPEND kept ${src})
    endif()
    list(APPEND batch ${name})
    list(LENGTH batch size)
    if(size EQUAL GREGOR_UNITY_BATCH)
      gregor_unity_write_batch(batch_files ${target} ${index} "${batch}")
      math(EXPR index "${index} + 1")
      set(batch)
    endif()
  endforeach()
  if(batch)
    gregor_unity_write_batch(batch_files ${target} ${index} "${batch}")
  endif()
  set_property(TARGET ${target} PROPERTY SOURCES ${kept} ${batch_files})
endfunction()
