# Unity batches: every target compiles its sources GREGOR_UNITY_BATCH at a time as one
# translation unit. Under the debug preset's sanitizers most of a file's compile time is
# spent emitting the same inline functions and template instances (Asio's coroutine frames,
# fmt, the generated protocol types) that its neighbours emit too; a batch emits them once.
# Four controller files: 62.6 s one by one, 23.8 s as one batch (gcc 12, ASan + UBSan).
# -DGREGOR_UNITY=OFF compiles file by file again (quicker for editing one file over and
# over). A file that cannot share a batch sets SKIP_UNITY_BUILD_INCLUSION.
option(GREGOR_UNITY "Compile sources in unity batches" ON)
set(GREGOR_UNITY_BATCH 8 CACHE STRING "Sources per unity batch")

# gregor_unity(target): batch the target's sources when GREGOR_UNITY is on. gregor_library
# calls it; the generated protocol code too.
function(gregor_unity target)
  if(GREGOR_UNITY)
    set_target_properties(${target} PROPERTIES
      UNITY_BUILD ON UNITY_BUILD_MODE BATCH UNITY_BUILD_BATCH_SIZE ${GREGOR_UNITY_BATCH})
  endif()
endfunction()
