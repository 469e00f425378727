#include "common/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace refuge {
namespace {

TEST(StatusTest, DefaultIsOk) { EXPECT_TRUE(Status().ok()); }

TEST(StatusTest, AnnotatePrefixesContextAndKeepsCode) {
  Status s = Corruption("bad byte").Annotate("snapshot.json");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "snapshot.json: bad byte");
}

TEST(StatusTest, ErrnoStatusMapsEnoentToNotFound) {
  EXPECT_EQ(ErrnoStatus("x", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus("x", EACCES).code(), StatusCode::kIOError);
  EXPECT_NE(ErrnoStatus("x", EACCES).message().find("Permission denied"), std::string::npos);
}

Result<int> Half(int v) {
  if (v % 2) return InvalidArgument("odd");
  return v / 2;
}

Status UseHalf(int v, int* out) {
  REFUGE_ASSIGN_OR_RETURN(int h, Half(v));
  *out = h;
  return Status::Ok();
}

TEST(StatusTest, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(UseHalf(4, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(UseHalf(3, &out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refuge
