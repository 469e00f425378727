# Unit tests of mirroring: the signed mirror list, announcements and hints (parsing, bounds,
# signatures, time window), the node database's mirror rows, verified streaming into the
# object store, the parallel object downloader (against loopback static servers), the
# follower's hint intake, and SiteSync end to end in process: a publisher's home served by a
# real serve::Server on 127.0.0.1 (port 0), followed by a second node home.
target_sources(refuge_unit_tests PRIVATE
  mirror/mirror_list_test.cc
  mirror/announcement_test.cc
  mirror/hint_test.cc
  mirror/node_db_mirror_test.cc
  mirror/object_store_stream_test.cc
  mirror/object_downloader_test.cc
  mirror/follower_test.cc
  mirror/site_sync_test.cc
)
