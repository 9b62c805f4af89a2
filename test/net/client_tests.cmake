# HttpClient and TLS context tests (loopback servers, certificates from make_certs.sh).
# Included from test/net/CMakeLists.txt.
zpark_add_test(NAME http_client_test SOURCES http_client_test.cpp LIBS zpark_net FIXTURES certs)
