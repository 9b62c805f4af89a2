// The PostgreSQL harness itself: a real server comes up, answers, stops for real (its port
// refuses connections) and comes back on the same port with its data.
#define BOOST_TEST_MODULE pg_cluster_test
#include "test/support/pg_cluster.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using zpark::test::PgCluster;

namespace {

bool accepts_tcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_TEST_REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_cluster_answers_stops_and_starts_again_on_its_port) {
  BOOST_TEST_REQUIRE(PgCluster::available(), PgCluster::missing_binaries());
  PgCluster pg;
  BOOST_TEST(pg.url() == "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/zpark");
  BOOST_TEST(pg.running());
  BOOST_TEST(pg.psql("select 1") == "1");
  BOOST_TEST(pg.psql("select current_database(), current_user") == "zpark|postgres");
  pg.psql("create table t (n int); insert into t values (1), (2);");

  pg.stop();
  BOOST_TEST(!pg.running());
  BOOST_TEST(!accepts_tcp(pg.port()));
  BOOST_CHECK_THROW(pg.psql("select 1"), std::runtime_error);

  pg.start();
  BOOST_TEST(pg.running());
  BOOST_TEST(pg.psql("select sum(n) from t") == "3");  // the same data directory

  pg.reset_database();
  BOOST_TEST(pg.psql("select count(*) from pg_tables where tablename = 't'") == "0");
}

BOOST_AUTO_TEST_CASE(a_failing_statement_throws_with_the_servers_message) {
  BOOST_TEST_REQUIRE(PgCluster::available(), PgCluster::missing_binaries());
  PgCluster pg;
  try {
    pg.psql("select 1; select * from no_such_table; select 2");
    BOOST_FAIL("no exception");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find("no_such_table") != std::string::npos, e.what());
  }
}
