// refuge tuf-client: a plain TUF client, for interoperability testing against any TUF
// repository served over HTTP. Protocol:
//   refuge tuf-client --metadata-dir D init TRUSTED_ROOT_FILE
//   refuge tuf-client --metadata-dir D --metadata-url URL refresh
//   refuge tuf-client --metadata-dir D --metadata-url URL --target-name T [--target-name T2 ...]
//                     --target-base-url URL --target-dir TD download
// Exit 0 on full success, 1 otherwise.
#include <iostream>

#include "cli/cli_common.h"
#include "common/file_util.h"
#include "common/limits.h"
#include "net/fetcher.h"
#include "tuf/updater.h"

namespace refuge::cli {

namespace {

struct TufClientArgs {
  std::string metadata_dir;
  std::string metadata_url;
  std::vector<std::string> target_names;
  std::string target_base_url;
  std::string target_dir;
  std::vector<std::string> command;  // action and its arguments
};

Status Run(const TufClientArgs& a) {
  if (a.command.empty()) return InvalidArgument("missing command: init, refresh or download");
  const std::string& action = a.command[0];
  if (action == "init") {
    if (a.command.size() != 2) return InvalidArgument("usage: init TRUSTED_ROOT_FILE");
    REFUGE_ASSIGN_OR_RETURN(std::string root, ReadFileBounded(a.command[1], limits::kMaxRootBytes));
    return tuf::Updater::InitTrustedRoot(a.metadata_dir, root);
  }
  if (action != "refresh" && action != "download") {
    return InvalidArgument("unknown command '" + action + "': use init, refresh or download");
  }
  if (a.command.size() != 1) return InvalidArgument(action + " takes no arguments");
  if (a.metadata_url.empty()) return InvalidArgument(action + " needs --metadata-url");
  auto fetcher = NewHttpFetcher();
  tuf::UpdaterOptions options;
  options.metadata_dir = a.metadata_dir;
  options.metadata_base_url = a.metadata_url;
  options.target_base_url = a.target_base_url;
  options.fetcher = fetcher.get();
  REFUGE_ASSIGN_OR_RETURN(auto updater, tuf::Updater::Open(options));
  REFUGE_RETURN_IF_ERROR(updater->Refresh());
  if (action == "refresh") return Status::Ok();

  if (a.target_names.empty()) return InvalidArgument("download needs --target-name");
  if (a.target_base_url.empty()) return InvalidArgument("download needs --target-base-url");
  if (a.target_dir.empty()) return InvalidArgument("download needs --target-dir");
  REFUGE_RETURN_IF_ERROR(MakeDirectories(a.target_dir));
  for (const std::string& name : a.target_names) {
    REFUGE_ASSIGN_OR_RETURN(tuf::TargetFile info, updater->GetTargetInfo(name));
    // One safe file name per target, the same every time: the name percent-encoded, '/'
    // included, so no target name can reach outside the target directory.
    std::string file = a.target_dir + "/" + QuoteSegment(name);
    if (updater->IsCached(info, file)) continue;
    REFUGE_RETURN_IF_ERROR(updater->DownloadTarget(info, name, file));
  }
  return Status::Ok();
}

}  // namespace

void AddTufClientCommand(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TufClientArgs>();
  CLI::App* cmd = AddCommand(app, "tuf-client", "A plain TUF client, for interoperability tests",
      "Follows the TUF client workflow (specification 1.0.x) against any TUF repository\n"
      "served over HTTP. Commands: init TRUSTED_ROOT_FILE | refresh | download.\n"
      "Exits 0 on full success and 1 otherwise.");
  cmd->add_option("--metadata-dir", a->metadata_dir, "Trusted metadata directory")
      ->required()
      ->type_name("DIR");
  cmd->add_option("--metadata-url", a->metadata_url, "Base URL of the repository's metadata")
      ->type_name("URL");
  cmd->add_option("--target-name", a->target_names, "A target to download (repeatable)")
      ->type_name("NAME");
  cmd->add_option("--target-base-url", a->target_base_url, "Base URL of the targets")
      ->type_name("URL");
  cmd->add_option("--target-dir", a->target_dir, "Where downloaded targets are stored")
      ->type_name("DIR");
  cmd->add_option("command", a->command, "init TRUSTED_ROOT_FILE | refresh | download")
      ->required();
  cmd->callback([&ctx, a] {
    Status s = Run(*a);
    if (!s.ok()) {
      std::cerr << "refuge tuf-client: " << Printable(s.message()) << "\n";
      ctx.exit_code = 1;
    }
  });
}

}  // namespace refuge::cli
