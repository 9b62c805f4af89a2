#define BOOST_TEST_MODULE emulator_test
#include <boost/test/unit_test.hpp>
BOOST_AUTO_TEST_CASE(placeholder) {}
