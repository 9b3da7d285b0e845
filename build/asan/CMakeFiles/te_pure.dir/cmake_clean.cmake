file(REMOVE_RECURSE
  "CMakeFiles/te_pure.dir/src/base/buf.c.o"
  "CMakeFiles/te_pure.dir/src/base/buf.c.o.d"
  "CMakeFiles/te_pure.dir/src/base/clock.c.o"
  "CMakeFiles/te_pure.dir/src/base/clock.c.o.d"
  "CMakeFiles/te_pure.dir/src/base/hmap.c.o"
  "CMakeFiles/te_pure.dir/src/base/hmap.c.o.d"
  "CMakeFiles/te_pure.dir/src/base/log.c.o"
  "CMakeFiles/te_pure.dir/src/base/log.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/auth.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/auth.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/broker.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/broker.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/codec.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/codec.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/handle_connect.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/handle_connect.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/handle_publish.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/handle_publish.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/handle_subscribe.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/handle_subscribe.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/store.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/store.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/subtree.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/subtree.c.o.d"
  "CMakeFiles/te_pure.dir/src/mqtt/topic.c.o"
  "CMakeFiles/te_pure.dir/src/mqtt/topic.c.o.d"
  "libte_pure.a"
  "libte_pure.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/te_pure.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
