# Zabbix end to end against the real Zabbix 6.0 lab (fixture zabbix_lab): import of our media
# type, and problem → update → recovery through the webhook and through zpark_alert.sh.
set(ZABBIX_LAB_STATE ${CMAKE_BINARY_DIR}/zabbix-lab)
add_test(NAME zabbix_mediatype_import
  COMMAND env LAB_STATE=${ZABBIX_LAB_STATE} bash ${CMAKE_CURRENT_SOURCE_DIR}/mediatype_import.sh)
foreach(kind webhook script)
  add_test(NAME zabbix_e2e_${kind}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_e2e.sh $<TARGET_FILE:zpark> $<TARGET_FILE:webex-emulator>
            ${ZPARK_TEST_CERTS} ${ZABBIX_LAB_STATE} e2e_${kind}.sh)
endforeach()
set_tests_properties(zabbix_mediatype_import zabbix_e2e_webhook zabbix_e2e_script PROPERTIES
  FIXTURES_REQUIRED "certs;zabbix_lab" RESOURCE_LOCK zabbix_lab TIMEOUT 300)
