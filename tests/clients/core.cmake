# efksim serve: the env contract, readiness, bad invocations, clean stop.
efk_client_test(serve sh ${CMAKE_CURRENT_SOURCE_DIR}/core/test_serve.sh)
