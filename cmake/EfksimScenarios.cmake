# Registering scenario files as ctest tests.
#
# efksim_add_scenarios(<file-or-dir>...
#                      [PREFIX <prefix>]        # test names "<prefix>.<scenario name>"; default "scenario"
#                      [RUNNER <executable>]    # default: the efksim target
#                      [LABELS <label>...]      # extra labels
#                      [TIMEOUT <seconds>]      # ctest's own timeout; default 300
#                      [ARGS <arg>...])         # extra `efksim run` arguments (e.g. --set k=v)
#
# Each scenario file (directories are searched for *.json, *.schema.json
# excluded) becomes one test running `efksim run --workdir <build>/scenario-work/<name> FILE`,
# labelled "scenario" plus the scenario's own "tags", so
#     ctest -j4 -L scenario          runs the whole library in parallel
#     ctest -L reaper                runs the scenarios tagged "reaper".
# The scenario's name is its "name" key, or the file name without .json.
# A failed scenario keeps its work dir (journals, process output, rendered
# files) under <build>/scenario-work/, and says so in the test's output.
# Files are re-read when they change (tags and names come from them).

function(efksim_add_scenarios)
  cmake_parse_arguments(ES "" "PREFIX;RUNNER;TIMEOUT" "LABELS;ARGS" ${ARGN})
  if(NOT ES_PREFIX)
    set(ES_PREFIX scenario)
  endif()
  if(NOT ES_TIMEOUT)
    set(ES_TIMEOUT 300)
  endif()
  if(NOT ES_RUNNER)
    if(TARGET efksim)
      set(ES_RUNNER $<TARGET_FILE:efksim>)
    else()
      message(FATAL_ERROR "efksim_add_scenarios: no efksim target; pass RUNNER")
    endif()
  endif()
  set(files "")
  foreach(p ${ES_UNPARSED_ARGUMENTS})
    if(NOT IS_ABSOLUTE ${p})
      set(p ${CMAKE_CURRENT_SOURCE_DIR}/${p})
    endif()
    if(IS_DIRECTORY ${p})
      file(GLOB_RECURSE found CONFIGURE_DEPENDS ${p}/*.json)
      list(FILTER found EXCLUDE REGEX "\\.schema\\.json$")
      list(SORT found)
      list(APPEND files ${found})
    else()
      list(APPEND files ${p})
    endif()
  endforeach()
  foreach(f ${files})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    get_filename_component(name ${f} NAME_WE)
    set(tags "")
    file(READ ${f} text)
    if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
      string(JSON sname ERROR_VARIABLE jerr GET "${text}" name)
      if(NOT jerr AND sname)
        set(name ${sname})
      endif()
      string(JSON ntags ERROR_VARIABLE jerr LENGTH "${text}" tags)
      if(NOT jerr AND ntags GREATER 0)
        math(EXPR last "${ntags} - 1")
        foreach(i RANGE ${last})
          string(JSON tag ERROR_VARIABLE jerr GET "${text}" tags ${i})
          if(NOT jerr)
            list(APPEND tags ${tag})
          endif()
        endforeach()
      endif()
    endif()
    string(REGEX REPLACE "[^A-Za-z0-9._-]" "_" safe "${name}")
    set(test ${ES_PREFIX}.${safe})
    add_test(NAME ${test}
             COMMAND ${ES_RUNNER} run --workdir ${CMAKE_BINARY_DIR}/scenario-work/${test}
                     ${ES_ARGS} ${f})
    set_tests_properties(${test} PROPERTIES
      LABELS "scenario;${tags};${ES_LABELS}"
      TIMEOUT ${ES_TIMEOUT}
      ENVIRONMENT "EFKSIM_BIN=${CMAKE_BINARY_DIR}/bin;EFKSIM_SCHEMA_DIR=${EFKSIM_SOURCE_DIR}/scenarios;EFKSIM_SOURCE_DIR=${EFKSIM_SOURCE_DIR}")
  endforeach()
endfunction()
