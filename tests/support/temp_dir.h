// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
#ifndef REFUGE_TESTS_SUPPORT_TEMP_DIR_H_
#define REFUGE_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace refuge::testing {

class TempDir {
 public:
  enum class Medium {
    kDefault,  // $TMPDIR, else /tmp
    // /dev/shm (tmpfs) when it is writable and TMPDIR is unset: for tests of stores and
    // databases, where every fsync on a real disk costs milliseconds and durability is not
    // what the test observes. Falls back to kDefault.
    kFast,
  };
  explicit TempDir(Medium medium = Medium::kDefault);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes a file (creating parent directories); aborts the test on failure.
void WriteTestFile(const std::string& path, const std::string& contents);
std::string ReadTestFile(const std::string& path);

}  // namespace refuge::testing

#endif  // REFUGE_TESTS_SUPPORT_TEMP_DIR_H_
