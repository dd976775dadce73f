# RELP and disk-spool integration tests: the agent against a private rsyslog
# imrelp (and imtcp) over TLS on loopback, as root. Included from
# tests/integration/CMakeLists.txt. Each takes about 1-2.5 minutes; they
# start and stop collectors and mount a tmpfs, so they run alone.
foreach(name relp spool)
  add_test(NAME integration_${name}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.sh $<TARGET_FILE:hids-agent>)
  set_tests_properties(integration_${name} PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endforeach()
