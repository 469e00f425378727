# The serve module's configuration file and TLS pieces, and `refuge cert`.
target_sources(refuge_core PRIVATE
  src/serve/config.cc
  src/serve/tls_context.cc
)
target_sources(refuge PRIVATE src/cli/cert_command.cc)
