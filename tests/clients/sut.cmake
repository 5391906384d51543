# Programs under test (fixtures/sut, fixtures/rsyslog): their own tests, run
# by /usr/bin/python3 (the first python3 on PATH may not see Debian's
# modules, e.g. python3-kubernetes).
set(EFK_SUT_TESTS ${CMAKE_CURRENT_LIST_DIR}/sut)

foreach(t es_discovery es_run rbd_lock_reaper rsyslog)
  efk_client_test(sut.${t} /usr/bin/python3 -m unittest discover
                  -s ${EFK_SUT_TESTS} -p test_${t}.py -v)
endforeach()

# Against the fakes: the fake API server through its test server.
efk_client_test(sut.es_discovery_fake /usr/bin/python3 ${EFK_SUT_TESTS}/test_es_discovery_fake.py
                $<TARGET_FILE:apis_serve>)
efk_client_test(sut.rsyslog_fake /usr/bin/python3 ${EFK_SUT_TESTS}/test_rsyslog_fake.py
                $<TARGET_FILE:apis_serve> $<TARGET_FILE:es_testserver>)

# The reaper against the fake RBD store's real tools and the fake API server
# (nodes via kubectl); registered once the rbd fake is in the tree.
if(TARGET efk_cli_rbd AND TARGET efk_cli_ceph AND TARGET rbd_testserver)
  efk_client_test(sut.rbd_lock_reaper_fake /usr/bin/python3
                  ${EFK_SUT_TESTS}/test_rbd_lock_reaper_fake.py $<TARGET_FILE:apis_serve>
                  $<TARGET_FILE:rbd_testserver> ${CMAKE_BINARY_DIR}/bin)
endif()
