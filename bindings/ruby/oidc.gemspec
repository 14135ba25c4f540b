# frozen_string_literal: true

require_relative "lib/oidc/version"

Gem::Specification.new do |s|
  s.name = "oidc"
  s.version = Oidc::VERSION
  s.summary = "Ruby binding of liboidc: OAuth 2.0 / OpenID Connect token validation and protocol client"
  s.description = "Thin FFI binding of liboidc (Rust core, C ABI). Needs liboidc.so #{Oidc.version_string(Oidc::LIB_VERSION_REQUIRED)} " \
                  "(#{Oidc::LIB_SONAME}) installed or named by OIDC_LIB."
  s.authors = ["liboidc contributors"]
  s.license = "Apache-2.0"
  s.homepage = "https://github.com/liboidc/liboidc/tree/main/bindings/ruby"
  s.files = Dir["lib/**/*.rb"] + %w[README.md BENCHMARKS.md]
  s.require_paths = ["lib"]
  s.required_ruby_version = ">= 3.0"
  s.add_runtime_dependency "ffi", ">= 1.15"
  s.metadata["rubygems_mfa_required"] = "true"
  s.metadata["source_code_uri"] = "https://github.com/liboidc/liboidc"
  s.metadata["documentation_uri"] = "https://github.com/liboidc/liboidc/blob/main/bindings/ruby/README.md"
end
