# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build/asan
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(unit_mqtt_test_broker "/work/main/build/asan/unit_mqtt_test_broker")
set_tests_properties(unit_mqtt_test_broker PROPERTIES  ENVIRONMENT "TE_SOURCE_DIR=/work/main" LABELS "unit" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;68;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit_mqtt_test_store "/work/main/build/asan/unit_mqtt_test_store")
set_tests_properties(unit_mqtt_test_store PROPERTIES  ENVIRONMENT "TE_SOURCE_DIR=/work/main" LABELS "unit" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;68;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit_net_test_net "/work/main/build/asan/unit_net_test_net")
set_tests_properties(unit_net_test_net PROPERTIES  ENVIRONMENT "TE_SOURCE_DIR=/work/main" LABELS "unit" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;68;add_test;/work/main/CMakeLists.txt;0;")
add_test(fuzz_smoke_http_request "/work/main/build/asan/fuzz_http_request" "/work/main/fuzz/corpus/http_request")
set_tests_properties(fuzz_smoke_http_request PROPERTIES  LABELS "fuzz" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;86;add_test;/work/main/CMakeLists.txt;0;")
add_test(fuzz_smoke_mqtt_broker "/work/main/build/asan/fuzz_mqtt_broker" "/work/main/fuzz/corpus/mqtt_broker")
set_tests_properties(fuzz_smoke_mqtt_broker PROPERTIES  LABELS "fuzz" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;86;add_test;/work/main/CMakeLists.txt;0;")
