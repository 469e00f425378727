# Unit tests of the store, the publisher and a node's local views of its sites: object store,
# node database, source tree, publish/rotate, GC, site repository, verify and local get.
target_sources(refuge_unit_tests PRIVATE
  unit/object_store_test.cc
  unit/node_db_test.cc
  unit/source_tree_test.cc
  unit/publisher_test.cc
  unit/garbage_collector_test.cc
  unit/site_repository_test.cc
  unit/verifier_test.cc
  unit/block_list_test.cc
  unit/site_client_test.cc
  unit/url_test.cc
)
