# The field-failure suite (scenarios/): breaking the thing a scenario protects
# must make it fail, with a message naming the expectation that caught it.
# Each test runs a scenario through `efksim run` with the program under test
# broken, and checks the exit status (1) and the report's lines
# (tests/clients/suite/<name>.expected, via tests/scenarios/check_output.sh).
#   reaper:    a copy of the reaper without its watcher check
#   discovery: the helper given the default service account (401)
#   agent:     retryfailures off where the scenario expects no loss
set(EFK_SUITE_TESTS ${CMAKE_CURRENT_LIST_DIR}/suite)
set(EFK_SUITE_CHECK ${EFKSIM_SOURCE_DIR}/tests/scenarios/check_output.sh)
set(EFK_SUITE_WORK ${CMAKE_BINARY_DIR}/scenario-work/suite.break)

if(TARGET efksim)
  efk_client_test(suite.break.reaper sh ${EFK_SUITE_TESTS}/break_reaper.sh $<TARGET_FILE:efksim>
                  ${EFKSIM_SOURCE_DIR} ${EFK_SUITE_WORK}.reaper)
  efk_client_test(suite.break.discovery sh ${EFK_SUITE_CHECK} 1 ${EFK_SUITE_TESTS}/break-discovery.expected --
                  $<TARGET_FILE:efksim> run --workdir ${EFK_SUITE_WORK}.discovery
                  --set processes.discovery.identity=system:serviceaccount:kube-system:default
                  ${EFKSIM_SOURCE_DIR}/scenarios/discovery/dedicated-sa.json)
  efk_client_test(suite.break.agent sh ${EFK_SUITE_CHECK} 1 ${EFK_SUITE_TESTS}/break-agent.expected --
                  $<TARGET_FILE:efksim> run --workdir ${EFK_SUITE_WORK}.agent --set vars.es_retry_line=
                  ${EFKSIM_SOURCE_DIR}/scenarios/agent/es-429-items-retryfailures.json)
  # their temp files (check_output.sh's capture) stay out of the shared /tmp
  file(MAKE_DIRECTORY ${EFK_SUITE_WORK}.tmp)
  set_tests_properties(clients.suite.break.reaper clients.suite.break.discovery clients.suite.break.agent
                       PROPERTIES LABELS "clients;suite")
  foreach(t reaper discovery agent)
    set_property(TEST clients.suite.break.${t} APPEND PROPERTY ENVIRONMENT "TMPDIR=${EFK_SUITE_WORK}.tmp")
  endforeach()
endif()
