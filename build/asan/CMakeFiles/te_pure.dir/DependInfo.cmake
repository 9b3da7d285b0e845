
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/base/buf.c" "CMakeFiles/te_pure.dir/src/base/buf.c.o" "gcc" "CMakeFiles/te_pure.dir/src/base/buf.c.o.d"
  "/work/main/src/base/clock.c" "CMakeFiles/te_pure.dir/src/base/clock.c.o" "gcc" "CMakeFiles/te_pure.dir/src/base/clock.c.o.d"
  "/work/main/src/base/hmap.c" "CMakeFiles/te_pure.dir/src/base/hmap.c.o" "gcc" "CMakeFiles/te_pure.dir/src/base/hmap.c.o.d"
  "/work/main/src/base/log.c" "CMakeFiles/te_pure.dir/src/base/log.c.o" "gcc" "CMakeFiles/te_pure.dir/src/base/log.c.o.d"
  "/work/main/src/mqtt/auth.c" "CMakeFiles/te_pure.dir/src/mqtt/auth.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/auth.c.o.d"
  "/work/main/src/mqtt/broker.c" "CMakeFiles/te_pure.dir/src/mqtt/broker.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/broker.c.o.d"
  "/work/main/src/mqtt/codec.c" "CMakeFiles/te_pure.dir/src/mqtt/codec.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/codec.c.o.d"
  "/work/main/src/mqtt/handle_connect.c" "CMakeFiles/te_pure.dir/src/mqtt/handle_connect.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/handle_connect.c.o.d"
  "/work/main/src/mqtt/handle_publish.c" "CMakeFiles/te_pure.dir/src/mqtt/handle_publish.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/handle_publish.c.o.d"
  "/work/main/src/mqtt/handle_subscribe.c" "CMakeFiles/te_pure.dir/src/mqtt/handle_subscribe.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/handle_subscribe.c.o.d"
  "/work/main/src/mqtt/store.c" "CMakeFiles/te_pure.dir/src/mqtt/store.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/store.c.o.d"
  "/work/main/src/mqtt/subtree.c" "CMakeFiles/te_pure.dir/src/mqtt/subtree.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/subtree.c.o.d"
  "/work/main/src/mqtt/topic.c" "CMakeFiles/te_pure.dir/src/mqtt/topic.c.o" "gcc" "CMakeFiles/te_pure.dir/src/mqtt/topic.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
