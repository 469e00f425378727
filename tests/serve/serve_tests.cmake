# Unit tests of the HTTP server's pieces: request parser, dates, ranges, catalog, cache.
target_sources(refuge_unit_tests PRIVATE
)
