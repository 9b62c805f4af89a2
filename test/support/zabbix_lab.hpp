#pragma once
// The real Zabbix 6.0 of test/zabbix/lab.sh as the lab tests find it: KEY=value lines in its env
// file, $ZPARK_ZABBIX_LAB_ENV or the one the ctest fixture writes.
#include <initializer_list>
#include <map>
#include <string>

namespace zpark::test {

using LabEnv = std::map<std::string, std::string>;

// The lab's env file: $ZPARK_ZABBIX_LAB_ENV when set, else `fixture_file` (the test's compiled-in
// ZABBIX_LAB_ENV); empty when there is none. Each key of `overridable` set (non-empty) in the
// environment wins over the file.
LabEnv read_lab_env(const std::string& fixture_file, std::initializer_list<const char*> overridable = {});

// `key` of `env`, "" when absent.
std::string lab_value(const LabEnv& env, const std::string& key);

}  // namespace zpark::test
