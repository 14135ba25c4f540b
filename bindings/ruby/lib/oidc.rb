# frozen_string_literal: true

# Ruby binding of liboidc (OAuth 2.0 / OpenID Connect, Rust core behind a C ABI).
#
#   require "oidc"
#   client = Oidc::Client.new(issuer: "https://idp.example.com", audiences: "https://api.example.com")
#   claims = client.validate(token)
#
# Loading needs liboidc (set OIDC_LIB=/path/to/liboidc.so, or LD_LIBRARY_PATH); a missing or
# incompatible library raises Oidc::LibraryLoadError with an install hint.

require "ffi"
require "json"
require_relative "oidc/version"
require_relative "oidc/native"
require_relative "oidc/ffi_support"
require_relative "oidc/errors"
require_relative "oidc/handle"
require_relative "oidc/builder"
require_relative "oidc/claims"
require_relative "oidc/client"
require_relative "oidc/authn"
require_relative "oidc/issuer"
require_relative "oidc/protocol"
require_relative "oidc/token"
require_relative "oidc/cancel"
require_relative "oidc/request"
require_relative "oidc/oauth_client"
require_relative "oidc/pending_authorization"
require_relative "oidc/process"
require_relative "oidc/logger"
require_relative "oidc/jose"
# One file per protocol area (client credentials, authorization code, refresh, device,
# introspection, revocation, userinfo, ...): each adds its methods to Oidc::OAuthClient, all
# written over the one request object (lib/oidc/request.rb) through OAuthClient#perform.
Dir[File.join(__dir__, "oidc", "oauth", "*.rb")].sort.each { |f| require f }
require_relative "oidc/rack"

module Oidc
  # Bound the process-wide key cache to `n` JWKS URLs (default 64).
  def self.cache_max_entries=(n)
    Native.oidc_cache_set_max_entries(Integer(n))
  end
end
