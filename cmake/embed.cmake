# Writes a C++ source holding files as byte arrays, for gregor_embed_files() (run at build
# time by a custom command, so an edited asset is embedded again):
#   cmake -DOUT=<file.cc> -DHEADER=<include> -DNAMESPACE=<ns> -DFILES=<name=path|...> -P embed.cmake
# The source defines `const embedded_file embedded_files[]` and `embedded_file_count` in
# NAMESPACE, each entry {name, bytes, size}; HEADER declares them.
set(text "// Written by cmake/embed.cmake at build time; do not edit.\n#include \"${HEADER}\"\n\n")
string(APPEND text "namespace ${NAMESPACE} {\nnamespace {\n")
set(entries "")
set(index 0)
string(REPLACE "|" ";" FILES "${FILES}")
foreach(pair ${FILES})
  string(FIND "${pair}" "=" eq)
  string(SUBSTRING "${pair}" 0 ${eq} name)
  math(EXPR from "${eq} + 1")
  string(SUBSTRING "${pair}" ${from} -1 path)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # One line per 32 bytes keeps the file readable by tools that dislike long lines.
  string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
  string(APPEND text "const unsigned char file_${index}[] = {\n${bytes}0};\n")
  string(APPEND entries "    {\"${name}\", file_${index}, ${size}},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND text "}  // namespace\n\nconst embedded_file embedded_files[] = {\n${entries}};\n")
string(APPEND text "const std::size_t embedded_file_count = ${index};\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
