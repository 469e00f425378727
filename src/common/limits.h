// Every bound refuge puts on untrusted input, in one place.
//
// Untrusted input is anything from the network, a peer, a metadata file or a publisher's
// directory. Each limit below is named, and the reason for its value is given. Raising one
// is a decision, not a tweak: say why in the commit.
#ifndef REFUGE_COMMON_LIMITS_H_
#define REFUGE_COMMON_LIMITS_H_

#include <cstdint>

namespace refuge::limits {

// --- Metadata downloads (TUF "endless data" defence; spec 5.3.1, 5.4.1, 5.5.1, 5.6.1) ----
// A root file holds a handful of keys; 512 KiB allows hundreds of keys and signatures.
inline constexpr uint64_t kMaxRootBytes = 512 * 1024;
// A timestamp lists one file; 16 KiB is generous (python-tuf uses the same figure).
inline constexpr uint64_t kMaxTimestampBytes = 16 * 1024;
// Used only when the timestamp gives no length for the snapshot: 2 MiB covers thousands of
// delegated roles.
inline constexpr uint64_t kMaxSnapshotBytes = 2 * 1024 * 1024;
// Used only when the snapshot gives no length: a targets file lists every file of a site,
// about 150 bytes each, so 64 MiB fits about 400,000 files.
inline constexpr uint64_t kMaxTargetsBytes = 64 * 1024 * 1024;

// --- TUF client workflow ---------------------------------------------------------------------
// How many root versions one update may walk (spec 5.3.3 leaves the bound to the client).
inline constexpr int kMaxRootRotations = 256;
// How many delegated roles one target lookup may visit (spec 5.6.7.1).
inline constexpr int kMaxDelegationsVisited = 32;
// Signatures examined per metadata file; more is a denial-of-service attempt.
inline constexpr int kMaxSignatures = 1024;
// Nesting depth of any JSON document refuge parses.
inline constexpr int kMaxJsonDepth = 32;

// --- Targets and publications ----------------------------------------------------------------
// Longest target path, in bytes (a PATH_MAX-like bound; URLs stay under 8 KiB with room).
inline constexpr uint64_t kMaxTargetPathBytes = 2048;
// Largest single file a publication may contain (1 TiB): a sanity bound on declared lengths.
inline constexpr uint64_t kMaxTargetBytes = uint64_t{1} << 40;
// Files in one publication.
inline constexpr uint64_t kMaxFilesPerPublication = 1'000'000;
// Directory nesting inside a published directory.
inline constexpr int kMaxDirectoryDepth = 64;

// --- Local files -----------------------------------------------------------------------------
// A key file is a PEM block of a few hundred bytes.
inline constexpr uint64_t kMaxKeyFileBytes = 16 * 1024;

}  // namespace refuge::limits

#endif  // REFUGE_COMMON_LIMITS_H_
