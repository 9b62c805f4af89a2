// Asio, Asio SSL and Beast compiled once for the whole program (separate compilation),
// so that every other translation unit only parses their headers.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
