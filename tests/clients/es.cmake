# Real clients against the fake Elasticsearch (tests/clients/es/).
add_executable(es_testserver ${CMAKE_CURRENT_LIST_DIR}/es/es_testserver.c)
target_link_libraries(es_testserver PRIVATE efksim_all)
target_include_directories(es_testserver PRIVATE ${EFKSIM_SOURCE_DIR}/fakes)
