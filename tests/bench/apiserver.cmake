# The fake API server's benchmark helper (run by tests/bench/apiserver.sh).
add_executable(apiserver_fanout ${CMAKE_CURRENT_LIST_DIR}/apiserver_fanout.c)
target_link_libraries(apiserver_fanout PRIVATE efksim_all PkgConfig::CURL Threads::Threads)
