# Real tools against the fake RBD lock store (tests/clients/rbd/): the `rbd`
# and `ceph` executables of build/bin talk HTTP to rbd_testserver.
add_executable(rbd_testserver ${CMAKE_CURRENT_LIST_DIR}/rbd/rbd_testserver.c)
target_link_libraries(rbd_testserver PRIVATE efksim_all)
target_include_directories(rbd_testserver PRIVATE ${EFKSIM_SOURCE_DIR}/fakes)
