# Build-time script: the served API description is server/openapi.yaml
# followed by every module's fragment (modules/<m>/openapi.yaml), whose
# lines are path items indented by two spaces, continuing `paths:`.
# -DBASE=server/openapi.yaml -DOUT=gen/openapi.yaml "-DFRAGMENTS=a;b"
file(READ "${BASE}" text)
list(SORT FRAGMENTS)
foreach(f IN LISTS FRAGMENTS)
  file(READ "${f}" frag)
  string(APPEND text "${frag}")
endforeach()
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
