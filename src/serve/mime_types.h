// Content-Type by file extension, for the files of a publication.
//
// A fixed table of the types a web publication uses; anything else is
// "application/octet-stream". Text types carry "; charset=utf-8".
//
// Thread-safety: stateless.
#ifndef REFUGE_SERVE_MIME_TYPES_H_
#define REFUGE_SERVE_MIME_TYPES_H_

#include <string_view>

namespace refuge::serve {

// The Content-Type for `path` (its last extension, case-insensitive). The returned view
// points to static storage.
std::string_view ContentTypeFor(std::string_view path);

// For the unit test: the lookup table is sorted (binary search relies on it).
bool MimeTableIsSorted();

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_MIME_TYPES_H_
