# Unit tests of the serve pieces that work on a node home: catalog and routing.
target_sources(refuge_unit_tests PRIVATE
  serve/catalog_test.cc
  serve/site_router_test.cc
)
target_link_libraries(refuge_unit_tests PRIVATE SQLite::SQLite3)
