# HttpServer in-process with a fake Handler (loopback, port 0).
# Included from test/net/CMakeLists.txt.
zpark_add_test(NAME http_server_test SOURCES http_server_test.cpp LIBS zpark_net)
