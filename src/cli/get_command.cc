// refuge get SITE_ID/PATH --from SOURCE [-o FILE]
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli_common.h"
#include "common/file_util.h"
#include "node/site_client.h"

namespace refuge::cli {

namespace {

struct GetArgs {
  std::string what;
  std::string from;
  std::string output;
  bool json = false;
};

Status CopyToStdout(const std::string& path) {
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  std::vector<char> buf(1 << 16);
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd.get(), buf.data(), buf.size(), path));
    if (n == 0) return Status::Ok();
    REFUGE_RETURN_IF_ERROR(WriteAll(STDOUT_FILENO, buf.data(), n, "standard output"));
  }
}

void RunGet(Context& ctx, const GetArgs& args) {
  size_t slash = args.what.find('/');
  std::string site_id = args.what.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : args.what.substr(slash + 1);
  auto home = ctx.OpenHome();
  if (!home) return;
  auto client = SiteClient::Open(args.from, site_id, home->ClientDir(site_id) + "/metadata");
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  auto info = (*client)->Resolve(path);
  if (!info.ok()) {
    ctx.Fail(info.status());
    return;
  }
  const bool to_stdout = args.output.empty() || args.output == "-";
  // Bytes reach standard output only after they verified, through a temporary file.
  std::string file = to_stdout ? TempName(home->path() + "/tmp", "get-") : args.output;
  Status s = (*client)->Download(*info, file);
  if (s.ok() && to_stdout) s = CopyToStdout(file);
  if (to_stdout) ::unlink(file.c_str());
  if (!s.ok()) {
    ctx.Fail(s);
    return;
  }
  if (args.json) {
    Json out{{"site_id", site_id},
             {"path", (*client)->target_path()},
             {"version", (*client)->version()},
             {"length", info->length},
             {"sha256", info->hashes.at("sha256")},
             {"from", args.from}};
    if (!to_stdout) out["output"] = args.output;
    // With --json and no -o, the data went to stdout already; the summary goes to stderr.
    if (to_stdout) {
      std::cerr << out.dump() << "\n";
    } else {
      PrintJson(out);
    }
  } else if (!to_stdout) {
    std::cerr << "Verified " << (*client)->target_path() << " (" << info->length
              << " bytes, version " << (*client)->version() << ") from " << args.from << " -> "
              << args.output << "\n";
  }
}

}  // namespace

void AddGetCommand(CLI::App& app, Context& ctx) {
  auto g = std::make_shared<GetArgs>();
  CLI::App* cmd = AddCommand(app, "get", "Fetch one file of a site and verify it",
      "The site ID pins the first root, the TUF client workflow checks the signed metadata,\n"
      "and the file's length and SHA-256 are checked before a byte is written out. Trusted\n"
      "metadata is kept in REFUGE_HOME/client/SITE_ID, so a source that later serves an\n"
      "older version is refused.");
  cmd->add_option("SITE_ID/PATH", g->what, "The site and the file (SITE_ID/ alone: index.html)")
      ->required();
  cmd->add_option("--from", g->from,
                  "Where to fetch: a node URL (http://host:port) or a node home directory")
      ->required()
      ->type_name("SOURCE");
  cmd->add_option("-o,--output", g->output, "Write the file here (default: standard output)")
      ->type_name("FILE");
  cmd->add_flag("--json", g->json, "Print a JSON summary");
  cmd->callback([&ctx, g] { RunGet(ctx, *g); });
}

}  // namespace refuge::cli
