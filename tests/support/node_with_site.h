// NodeWithSiteTest: a test fixture with a fresh node home (on fast storage), one site created
// in it, a source directory to publish, and a fake clock. Tests write files into `source_`
// and call PublishSource() to publish them as the site's next version.
#ifndef REFUGE_TESTS_SUPPORT_NODE_WITH_SITE_H_
#define REFUGE_TESTS_SUPPORT_NODE_WITH_SITE_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "node/node_home.h"
#include "publish/publisher.h"
#include "support/temp_dir.h"

namespace refuge::testing {

class NodeWithSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto home = NodeHome::Open(home_dir_.path());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = std::move(home).value();
    auto init = InitSite(*home_, InitOptions{}, clock_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    site_id_ = init->site_id;
  }

  Status PublishSource() {
    PublishOptions options;
    options.threads = 2;
    return Publish(*home_, site_id_, source_.path(), options, clock_).status();
  }

  TempDir home_dir_{TempDir::Medium::kFast};
  TempDir source_{TempDir::Medium::kFast};
  FakeClock clock_{1'700'000'000};
  std::unique_ptr<NodeHome> home_;
  std::string site_id_;
};

}  // namespace refuge::testing

#endif  // REFUGE_TESTS_SUPPORT_NODE_WITH_SITE_H_
