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

# `zpark check` proves the Zabbix login against the real server.
add_test(NAME zabbix_zpark_check
  COMMAND bash -c ". '${ZABBIX_LAB_STATE}/env' && out=$(ZPARK_API_TOKEN=x ZABBIX_SERVER_URL=$ZABBIX_URL \
ZABBIX_USERNAME=Admin ZABBIX_PASSWORD=zabbix '$<TARGET_FILE:zpark>' check 2>/dev/null) && echo \"$out\" && \
echo \"$out\" | grep -q 'Zabbix 6.0.[0-9]* at .*: login OK as Admin' && ! echo \"$out\" | grep -q zabbix$")
set_tests_properties(zabbix_zpark_check PROPERTIES FIXTURES_REQUIRED zabbix_lab RESOURCE_LOCK zabbix_lab TIMEOUT 60)

# Bot commands as a user meets them: `zpark webhook create`, messages written through the
# emulator (signed webhooks), replies checked against Zabbix's own figures.
add_test(NAME zabbix_e2e_commands
  COMMAND python3 -B ${CMAKE_CURRENT_SOURCE_DIR}/e2e_commands.py $<TARGET_FILE:zpark>
          $<TARGET_FILE:webex-emulator> ${ZPARK_TEST_CERTS} ${ZABBIX_LAB_STATE})
set_tests_properties(zabbix_e2e_commands PROPERTIES
  FIXTURES_REQUIRED "certs;zabbix_lab" RESOURCE_LOCK zabbix_lab TIMEOUT 300)

# Graphs with the real frontend: a problem's PNG in the alert's thread (multipart upload to the
# emulator), the graph command, the alert on time with the frontend down, `zpark check`.
add_test(NAME zabbix_e2e_graphs
  COMMAND python3 -B ${CMAKE_CURRENT_SOURCE_DIR}/e2e_graphs.py $<TARGET_FILE:zpark>
          $<TARGET_FILE:webex-emulator> ${ZPARK_TEST_CERTS} ${ZABBIX_LAB_STATE})
set_tests_properties(zabbix_e2e_graphs PROPERTIES
  FIXTURES_REQUIRED "certs;zabbix_lab" RESOURCE_LOCK zabbix_lab TIMEOUT 300)

# No double news through the real update path: the shipped media type, an action with update
# operations; the bot's ack in the alert's thread is answered once (Zabbix's update for it reaches
# Zpark and is skipped), another Zabbix user's ack arrives as an UPDATE in the thread.
add_test(NAME zabbix_e2e_bot_updates
  COMMAND python3 -B ${CMAKE_CURRENT_SOURCE_DIR}/e2e_bot_updates.py $<TARGET_FILE:zpark>
          $<TARGET_FILE:webex-emulator> ${ZPARK_TEST_CERTS} ${ZABBIX_LAB_STATE})
set_tests_properties(zabbix_e2e_bot_updates PROPERTIES
  FIXTURES_REQUIRED "certs;zabbix_lab" RESOURCE_LOCK zabbix_lab TIMEOUT 300)
