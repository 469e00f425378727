# Unit tests of the HTTP server's pieces: request parser, dates, ranges, catalog, cache.
target_sources(refuge_unit_tests PRIVATE
  serve/http_parser_test.cc
  serve/request_path_test.cc
  serve/byte_range_test.cc
  serve/mime_types_test.cc
  serve/response_test.cc
)
