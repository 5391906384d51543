# Real clients against the fake Elasticsearch (tests/clients/es/).
add_executable(es_testserver ${CMAKE_CURRENT_LIST_DIR}/es/es_testserver.c)
target_link_libraries(es_testserver PRIVATE efk_testserver efksim_all)
target_include_directories(es_testserver PRIVATE ${EFKSIM_SOURCE_DIR}/fakes)

# curl: every malformed-input case, each persona's _type rule, security, faults.
efk_client_test(es.curl bash ${CMAKE_CURRENT_LIST_DIR}/es/curl_cases.sh)

# python3-elasticsearch 7.17: product check, info, helpers.bulk of 10,000, count, search.
efk_client_test(es.python_es717 /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/es/py_es717.py)

# rsyslog omelasticsearch (bulkmode, errorfile): delivery, then an injected item 429.
efk_client_test(es.rsyslog_omelasticsearch /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/es/rsyslog_omes.py)
