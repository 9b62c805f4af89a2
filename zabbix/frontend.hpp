#pragma once
// A Zabbix frontend session (not the JSON-RPC API): the web form login at index.php with
// ZABBIX_USERNAME/ZABBIX_PASSWORD, whose zbx_session cookie then opens chart.php for graph
// images. An API token cannot open such a session, so graphs need the password.
//
// chart.php answers 200 with an HTML page (the login form, "access denied") when the session is
// gone or an item is not readable: every answer is checked for the PNG signature, an HTML answer
// makes one fresh login and one retry, then an error. Pure parts are plain functions below.
#include "zabbix/client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zpark::zabbix {

// ---- pure parts ----------------------------------------------------------------------------

// The 8-byte PNG signature \x89PNG\r\n\x1a\n at the start.
bool is_png(std::string_view body);
// An HTML page (doctype or <html after optional white space), what the frontend answers instead
// of an image when the session is not valid.
bool looks_like_html(std::string_view body);

// application/x-www-form-urlencoded login form: name, password, autologin=1, enter=Sign in.
std::string login_form(std::string_view username, std::string_view password);
// The value of the zbx_session cookie in one Set-Cookie header value, or nullopt (another
// cookie). "deleted" or an empty value (the frontend clearing it) is nullopt too.
std::optional<std::string> session_cookie(std::string_view set_cookie);

struct ChartRequest {
  std::vector<std::string> itemids;
  std::int64_t period_seconds = 3600;  // from=now-<period>s to=now
  unsigned width = 900, height = 200;  // the plot area; the image is larger (legend)
};
// chart.php?itemids[]=..&from=now-3600s&to=now&width=..&height=..&type=0&legend=1&
// profileIdx=web.item.graph.filter. The profileIdx makes chart.php take from/to (without it,
// it draws the user's default period); it does not write the user's profile.
std::string chart_target(const ChartRequest& r);

// ---- the session ---------------------------------------------------------------------------

struct FrontendOptions {
  std::string url;       // ZABBIX_SERVER_URL (the frontend), "/api_jsonrpc.php" tolerated
  std::string username;  // ZABBIX_USERNAME
  std::string password;  // ZABBIX_PASSWORD
  bool verify_tls = true;
  std::string ca_file;
  std::chrono::milliseconds timeout{15000};
  // After a refused login, further logins within this pause fail at once: the frontend blocks
  // an account after a few failed logins. Zero: no pause.
  std::chrono::milliseconds login_pause{60000};
};

namespace detail {
struct FrontendState;
}

class Frontend {
 public:
  // Never throws: a bad URL or CA file comes back from every call as a config error.
  Frontend(boost::asio::any_io_executor ex, FrontendOptions options);
  ~Frontend();
  Frontend(Frontend&&) noexcept;
  Frontend& operator=(Frontend&&) noexcept;

  // POST index.php; keeps the zbx_session cookie. Errors: auth (refused), transport, http,
  // config.
  boost::asio::awaitable<Result<void>> login();
  // PNG bytes of chart.php, logging in first when there is no session and once more when the
  // frontend answers HTML. Kind parse: the frontend answered something that is not a PNG.
  boost::asio::awaitable<Result<std::string>> chart(ChartRequest request);

  const std::string& url() const;
  bool logged_in() const;
  void close();

 private:
  std::shared_ptr<detail::FrontendState> st_;
};

}  // namespace zpark::zabbix
