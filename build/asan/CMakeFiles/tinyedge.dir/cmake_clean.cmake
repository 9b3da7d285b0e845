file(REMOVE_RECURSE
  "CMakeFiles/tinyedge.dir/src/cli/cmd_broker.c.o"
  "CMakeFiles/tinyedge.dir/src/cli/cmd_broker.c.o.d"
  "CMakeFiles/tinyedge.dir/src/cli/cmd_serve.c.o"
  "CMakeFiles/tinyedge.dir/src/cli/cmd_serve.c.o.d"
  "CMakeFiles/tinyedge.dir/src/cli/main.c.o"
  "CMakeFiles/tinyedge.dir/src/cli/main.c.o.d"
  "tinyedge"
  "tinyedge.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tinyedge.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
