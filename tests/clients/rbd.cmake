# Real tools against the fake RBD lock store (tests/clients/rbd/): the `rbd`
# and `ceph` executables of build/bin talk HTTP to rbd_testserver.
add_executable(rbd_testserver ${CMAKE_CURRENT_LIST_DIR}/rbd/rbd_testserver.c)
target_link_libraries(rbd_testserver PRIVATE efk_testserver efksim_all)
target_include_directories(rbd_testserver PRIVATE ${EFKSIM_SOURCE_DIR}/fakes)

# Each test script starts its own rbd_testserver; python3 is Debian's.
set(EFK_RBD_CLIENT_DEPS rbd_testserver efk_cli_rbd efk_cli_ceph)
foreach(t seed_transcript golden concurrent faults bad_input)
  efk_client_test(rbd_${t} /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/rbd/test_${t}.py)
  set_tests_properties(clients.rbd_${t} PROPERTIES LABELS "clients;rbd")
endforeach()
