#include "test/support/zabbix_lab.hpp"

#include <cstdlib>
#include <fstream>

namespace zpark::test {

LabEnv read_lab_env(const std::string& fixture_file, std::initializer_list<const char*> overridable) {
  LabEnv env;
  const char* file = std::getenv("ZPARK_ZABBIX_LAB_ENV");
  std::ifstream in(file && *file ? std::string(file) : fixture_file);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* key : overridable) {
    if (const char* v = std::getenv(key); v && *v) env[key] = v;
  }
  return env;
}

std::string lab_value(const LabEnv& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

}  // namespace zpark::test
