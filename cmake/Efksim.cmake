# Helpers every room uses to register its tests.

# efk_unit_test(<name> <source>...): a cmocka test linked against every efksim
# library (static, so only what it uses is pulled in), labelled "unit".
function(efk_unit_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE efk_runner efksim_all PkgConfig::CMOCKA PkgConfig::CURL)
  target_include_directories(${name} PRIVATE ${EFKSIM_SOURCE_DIR}/fakes ${EFKSIM_SOURCE_DIR}
                             ${EFKSIM_SOURCE_DIR}/tests/unit)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "EFKSIM_BUILD_DIR=${CMAKE_BINARY_DIR};EFKSIM_SOURCE_DIR=${EFKSIM_SOURCE_DIR}")
endfunction()

# efk_client_test(<name> <command>...): a test driving a real client (kubectl,
# python, rsyslog, curl) against the fakes, labelled "clients".
function(efk_client_test name)
  add_test(NAME clients.${name} COMMAND ${ARGN})
  set_tests_properties(clients.${name} PROPERTIES LABELS clients TIMEOUT 300
    ENVIRONMENT "EFKSIM_BUILD_DIR=${CMAKE_BINARY_DIR};EFKSIM_SOURCE_DIR=${EFKSIM_SOURCE_DIR};EFKSIM=${CMAKE_BINARY_DIR}/bin/efksim;EFKSIM_BIN=${CMAKE_BINARY_DIR}/bin")
endfunction()

# efk_fake_library(<name>): a fake's room library, efk_<name>, from every .c
# file in the calling directory, on top of the core.
function(efk_fake_library name)
  file(GLOB src CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  add_library(efk_${name} STATIC ${src})
  target_link_libraries(efk_${name} PUBLIC efk_core)
endfunction()
