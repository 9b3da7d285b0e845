file(REMOVE_RECURSE
  "CMakeFiles/te_pure.dir/src/base/buf.c.o"
  "CMakeFiles/te_pure.dir/src/base/buf.c.o.d"
  "CMakeFiles/te_pure.dir/src/base/clock.c.o"
  "CMakeFiles/te_pure.dir/src/base/clock.c.o.d"
  "CMakeFiles/te_pure.dir/src/base/log.c.o"
  "CMakeFiles/te_pure.dir/src/base/log.c.o.d"
  "libte_pure.a"
  "libte_pure.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/te_pure.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
