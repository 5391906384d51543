# Client tests of the fake API server: real kubectl (1.27 and 1.33),
# python3-kubernetes in in-cluster mode, and rsyslog's mmkubernetes, each
# against its own apis_serve (the fake alone in a fresh work dir).
add_executable(apis_serve ${CMAKE_CURRENT_LIST_DIR}/apiserver/apis_serve.c)
target_link_libraries(apis_serve PRIVATE efk_testserver efk_runner efksim_all)
target_include_directories(apis_serve PRIVATE ${EFKSIM_SOURCE_DIR}/fakes ${EFKSIM_SOURCE_DIR}/runner)

set(APIS_CLIENT_DIR ${CMAKE_CURRENT_LIST_DIR}/apiserver)
foreach(t kubectl_1_27 kubectl_1_33 python_incluster rsyslog_mmkubernetes)
  efk_client_test(apiserver.${t} /usr/bin/python3 ${APIS_CLIENT_DIR}/test_${t}.py
                  $<TARGET_FILE:apis_serve>)
endforeach()
